/**
 * Aggregates response comparisons per route: how many were compared and differed, which fields
 * differ and how often, how often each field differs between two good copies (noise), and a few
 * recent redacted sample pairs. Memory is bounded: routes, fields per route and samples are capped.
 *
 * Noise. When a second response from the stable copy (`secondary`) is given, the fields where
 * primary and secondary disagree are noise for that request and are dropped from its differences.
 * Across requests, each field keeps two rates: raw = how often primary and candidate disagree on it
 * (per comparison), noise = how often primary and secondary disagree on it (per comparison that had
 * a secondary). A field counts as a real difference only when
 *   raw > noise, and (raw − noise) / (raw + noise) ≥ `relative` (default 20%), and
 *   raw − noise ≥ `absolute` (default 0.03 percentage points).
 * This is the same shape as Diffy's rule, on rates instead of counts because noise is measured on
 * fewer requests than raw differences. A request counts as differing when at least one of its
 * remaining differences is on a field that counts. Array indexes are folded (`$.items[*].price`)
 * so a field's history does not depend on where it sat in a list.
 */
import { createComparer, type CompareOptions, type ComparedResponse, type Comparer, type Difference } from './compare.ts';
import { fieldOf } from './json-path.ts';
import { redactDifference, sampleResponse, SECRET_KEY, type SampleResponse } from './redact.ts';

export interface DiffAggregatorOptions {
  /** Sample pairs kept per route (most recent differing ones). Default 5. */
  readonly maxSamples?: number;
  /** Redact secrets in samples: true (default), false, or a RegExp for secret JSON keys. */
  readonly redact?: boolean | RegExp;
  /** Most routes tracked; comparisons on further routes are judged but not aggregated. Default 256. */
  readonly maxRoutes?: number;
  /** Most fields tracked per route; further fields are counted under `(other)`. Default 200. */
  readonly maxFieldsPerRoute?: number;
  /** Noise margins, in percent. Defaults: relative 20, absolute 0.03. */
  readonly relative?: number;
  readonly absolute?: number;
  /** Comparison rules (ignored headers and fields). */
  readonly compare?: CompareOptions;
  /** Clock for sample timestamps. Default Date.now. */
  readonly now?: () => number;
}

export interface RecordContext {
  readonly method?: string;
  /** Normalised path without query. */
  readonly path?: string;
}

export interface RecordResult {
  /** True when this comparison counts as a difference (after noise). */
  readonly differing: boolean;
  /** Differences left after per-request noise cancellation. */
  readonly differences: Difference[];
  /** Fields dropped because primary and secondary disagreed on them too. */
  readonly noise: string[];
}

export interface FieldSummary {
  /** Field with array indexes folded, e.g. `$.items[*].price`, `header.cache-control`, `status`. */
  readonly path: string;
  /** Comparisons where primary and candidate disagreed on it. */
  readonly differing: number;
  /** Comparisons where primary and secondary disagreed on it. */
  readonly noise: number;
  /** differing / compared, in percent. */
  readonly rate: number;
  /** noise / comparisons that had a secondary, in percent. */
  readonly noiseRate: number;
  /** Whether it passes the noise margins, i.e. counts as a real difference. */
  readonly counted: boolean;
}

export interface DiffSample {
  readonly at: number;
  readonly method?: string;
  readonly path?: string;
  readonly differences: readonly Difference[];
  readonly primary: SampleResponse;
  readonly candidate: SampleResponse;
}

export interface RouteDiffSummary {
  readonly route: string;
  readonly compared: number;
  /** Comparisons that had a secondary response (noise measured). */
  readonly noiseCompared: number;
  readonly differing: number;
  /** differing / compared, in percent (0 when nothing was compared). */
  readonly diffRate: number;
  /** Fields sorted by how often they differ. */
  readonly fields: readonly FieldSummary[];
  readonly samples: readonly DiffSample[];
}

export interface DiffAggregator {
  record(routeKey: string, primary: ComparedResponse, candidate: ComparedResponse, secondary?: ComparedResponse, context?: RecordContext): RecordResult;
  summary(routeKey: string): RouteDiffSummary | undefined;
  summary(): RouteDiffSummary[];
  /** Forgets one route, or everything. */
  reset(routeKey?: string): void;
  /** Comparisons on routes past the route cap (judged but not aggregated). */
  untracked(): number;
}

export const OTHER_FIELD = '(other)';
const MAX_SAMPLE_DIFFERENCES = 20;

interface FieldCounts { raw: number; noise: number }

interface RouteState {
  compared: number;
  noiseCompared: number;
  differing: number;
  readonly fields: Map<string, FieldCounts>;
  readonly samples: DiffSample[];
}

export function createDiffAggregator(opts: DiffAggregatorOptions = {}): DiffAggregator {
  const maxSamples = opts.maxSamples ?? 5;
  const maxRoutes = opts.maxRoutes ?? 256;
  const maxFields = opts.maxFieldsPerRoute ?? 200;
  const relative = opts.relative ?? 20;
  const absolute = opts.absolute ?? 0.03;
  const secretKey = opts.redact === false ? null : opts.redact instanceof RegExp ? opts.redact : SECRET_KEY;
  const compare: Comparer = createComparer(opts.compare);
  const now = opts.now ?? Date.now;
  const routes = new Map<string, RouteState>();
  let untracked = 0;

  function counts(route: RouteState, field: string): FieldCounts {
    let c = route.fields.get(field);
    if (c) return c;
    const key = route.fields.size >= maxFields ? OTHER_FIELD : field;
    c = route.fields.get(key);
    if (!c) {
      c = { raw: 0, noise: 0 };
      route.fields.set(key, c);
    }
    return c;
  }

  function rates(route: RouteState, c: FieldCounts): { rate: number; noiseRate: number } {
    return {
      rate: route.compared === 0 ? 0 : (c.raw / route.compared) * 100,
      noiseRate: route.noiseCompared === 0 ? 0 : (c.noise / route.noiseCompared) * 100,
    };
  }

  function counted(route: RouteState, c: FieldCounts): boolean {
    const { rate, noiseRate } = rates(route, c);
    const excess = rate - noiseRate;
    return excess > 0 && (excess / (rate + noiseRate)) * 100 >= relative && excess >= absolute;
  }

  function record(
    routeKey: string,
    primary: ComparedResponse,
    candidate: ComparedResponse,
    secondary?: ComparedResponse,
    context?: RecordContext,
  ): RecordResult {
    const raw = compare(primary, candidate);
    const noiseDiffs = secondary ? compare(primary, secondary) : [];
    const noisy = new Set(noiseDiffs.map((d) => d.field));
    const differences = noisy.size === 0 ? raw : raw.filter((d) => !noisy.has(d.field));
    const noise = raw.filter((d) => noisy.has(d.field)).map((d) => d.field);

    let route = routes.get(routeKey);
    if (!route && routes.size < maxRoutes) {
      route = { compared: 0, noiseCompared: 0, differing: 0, fields: new Map(), samples: [] };
      routes.set(routeKey, route);
    }
    if (!route) {
      untracked++;
      return { differing: differences.length > 0, differences, noise };
    }
    route.compared++;
    if (secondary) route.noiseCompared++;
    const rawFields = new Set(raw.map((d) => fieldOf(d.field)));
    const noiseFields = new Set(noiseDiffs.map((d) => fieldOf(d.field)));
    for (const f of rawFields) counts(route, f).raw++;
    for (const f of noiseFields) counts(route, f).noise++;
    const differing = differences.some((d) => {
      const c = route.fields.get(fieldOf(d.field)) ?? route.fields.get(OTHER_FIELD);
      return c !== undefined && counted(route, c);
    });
    if (differing) {
      route.differing++;
      route.samples.push({
        at: now(),
        ...(context?.method !== undefined ? { method: context.method } : {}),
        ...(context?.path !== undefined ? { path: context.path } : {}),
        differences: differences.slice(0, MAX_SAMPLE_DIFFERENCES).map((d) => (secretKey ? redactDifference(d, secretKey) : d)),
        primary: sampleResponse(primary, secretKey),
        candidate: sampleResponse(candidate, secretKey),
      });
      if (route.samples.length > maxSamples) route.samples.splice(0, route.samples.length - maxSamples);
    }
    return { differing, differences, noise };
  }

  function summarise(key: string, route: RouteState): RouteDiffSummary {
    const fields: FieldSummary[] = [];
    for (const [path, c] of route.fields) {
      fields.push({ path, differing: c.raw, noise: c.noise, ...rates(route, c), counted: counted(route, c) });
    }
    fields.sort((a, b) => b.differing - a.differing || a.path.localeCompare(b.path));
    return {
      route: key,
      compared: route.compared,
      noiseCompared: route.noiseCompared,
      differing: route.differing,
      diffRate: route.compared === 0 ? 0 : (route.differing / route.compared) * 100,
      fields,
      samples: [...route.samples],
    };
  }

  function summary(routeKey: string): RouteDiffSummary | undefined;
  function summary(): RouteDiffSummary[];
  function summary(routeKey?: string): RouteDiffSummary | RouteDiffSummary[] | undefined {
    if (routeKey !== undefined) {
      const route = routes.get(routeKey);
      return route ? summarise(routeKey, route) : undefined;
    }
    return [...routes].map(([k, r]) => summarise(k, r));
  }

  return {
    record,
    summary,
    reset(routeKey) {
      if (routeKey === undefined) routes.clear();
      else routes.delete(routeKey);
    },
    untracked: () => untracked,
  };
}
