/**
 * What a Rollout spec means at run time: defaults filled in, durations in milliseconds, the traffic
 * each step sets (a pause keeps the step before it), what analysis judges a step by, and the spec
 * hash that tells a saved state from a stale one.
 */
import { createHash } from 'node:crypto';
import { parseDuration } from '../lib/index.ts';
import type { RolloutSpec } from '../resources/rollout.ts';

export interface ResolvedAnalysis {
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly minSamples: number;
  readonly successRate?: { readonly min: number };
  readonly latency?: { readonly percentile: 50 | 90 | 95 | 99; readonly maxRatio?: number; readonly maxMs?: number; readonly toleranceMs?: number };
  readonly diff?: { readonly maxRate: number };
  readonly failureLimit: number;
}

export interface HeaderGateMatch {
  /** Lower-case header name. */
  readonly name: string;
  readonly type: 'Exact' | 'RegularExpression';
  readonly value: string;
}

export type HashOn = { readonly cookie: { readonly name: string } } | { readonly header: { readonly name: string } };

/** How a rule's traffic is split while a rollout controls it. */
export interface TrafficOverride {
  /** The rule the override applies to, once the target is resolved. */
  readonly ruleId?: string;
  /** Percent of live requests to each copy (stable + candidate = 100). */
  readonly weights: { readonly stable: number; readonly candidate: number };
  /** Copies this percent of requests to the candidate; the caller always gets stable's answer. */
  readonly mirror: { readonly percent: number } | null;
  /** Requests matching all headers go to the candidate; all others to stable. */
  readonly headerGate: { readonly headers: readonly HeaderGateMatch[] } | null;
  /** A stable hash of the cookie or header puts `percent` of users on the candidate, each pinned to one copy. */
  readonly sticky: { readonly percent: number; readonly hashOn: HashOn } | null;
}

export type StepKind = 'mirror' | 'weight' | 'pause' | 'headerGate' | 'sticky';

/** What a step is judged by: mirrored responses, live candidate traffic, or nothing (no candidate traffic). */
export type AnalysisMode = 'mirror' | 'traffic' | 'none';

export interface ResolvedStep {
  readonly kind: StepKind;
  /** Least time on the step; for a pause without duration, undefined means "until promoted". */
  readonly durationMs?: number;
  /** Traffic while on this step (a pause keeps the traffic of the step before it). */
  readonly traffic: TrafficOverride;
  readonly mode: AnalysisMode;
  /** Short description such as "weight 20" or "mirror 100%". */
  readonly label: string;
}

export interface ResolvedRollout {
  readonly analysis: ResolvedAnalysis;
  readonly steps: readonly ResolvedStep[];
}

export const STABLE_ONLY: TrafficOverride = Object.freeze({
  weights: Object.freeze({ stable: 100, candidate: 0 }),
  mirror: null,
  headerGate: null,
  sticky: null,
});

export const CANDIDATE_ONLY: TrafficOverride = Object.freeze({
  weights: Object.freeze({ stable: 0, candidate: 100 }),
  mirror: null,
  headerGate: null,
  sticky: null,
});

function split(candidate: number): TrafficOverride['weights'] {
  return { stable: 100 - candidate, candidate };
}

function modeOf(t: TrafficOverride): AnalysisMode {
  if (t.mirror) return 'mirror';
  if (t.weights.candidate > 0 || t.headerGate) return 'traffic';
  return 'none';
}

const ms = (d: string | undefined): number | undefined => (d === undefined ? undefined : parseDuration(d));

export function resolveAnalysis(a: RolloutSpec['analysis']): ResolvedAnalysis {
  return {
    intervalMs: ms(a?.interval) ?? 1_000,
    windowMs: ms(a?.window) ?? 10_000,
    minSamples: a?.minSamples ?? 50,
    ...(a?.successRate ? { successRate: { min: a.successRate.min } } : {}),
    ...(a?.latency ? { latency: { ...a.latency, percentile: a.latency.percentile ?? 99 } } : {}),
    ...(a?.diff ? { diff: { maxRate: a.diff.maxRate } } : {}),
    failureLimit: a?.failureLimit ?? 0,
  };
}

/** Resolves a validated spec. Mirror, header-gate and sticky steps send all other live traffic to stable. */
export function resolveRollout(spec: RolloutSpec): ResolvedRollout {
  let previous: TrafficOverride = STABLE_ONLY;
  const steps = spec.steps.map((s): ResolvedStep => {
    let step: Omit<ResolvedStep, 'mode'>;
    if (s.mirror) {
      step = { kind: 'mirror', durationMs: ms(s.mirror.duration), label: `mirror ${s.mirror.percent}%`, traffic: { ...STABLE_ONLY, mirror: { percent: s.mirror.percent } } };
    } else if (s.weight !== undefined) {
      step = { kind: 'weight', durationMs: ms(s.duration), label: `weight ${s.weight}`, traffic: { ...STABLE_ONLY, weights: split(s.weight) } };
    } else if (s.headerGate) {
      const headers = s.headerGate.headers.map((h) => ({ name: h.name.toLowerCase(), type: h.type ?? 'Exact', value: h.value }));
      step = { kind: 'headerGate', durationMs: ms(s.headerGate.duration), label: `header gate ${headers.map((h) => h.name).join(', ')}`, traffic: { ...STABLE_ONLY, headerGate: { headers } } };
    } else if (s.sticky) {
      const { percent, hashOn } = s.sticky;
      const on: HashOn = hashOn.cookie ? { cookie: { name: hashOn.cookie.name } } : { header: { name: hashOn.header!.name.toLowerCase() } };
      step = { kind: 'sticky', durationMs: ms(s.sticky.duration), label: `sticky ${percent}%`, traffic: { ...STABLE_ONLY, weights: split(percent), sticky: { percent, hashOn: on } } };
    } else {
      const d = ms(s.pause?.duration);
      step = { kind: 'pause', durationMs: d, label: d === undefined ? 'pause until promoted' : `pause ${s.pause!.duration}`, traffic: previous };
    }
    previous = step.traffic;
    return { ...step, mode: modeOf(step.traffic) };
  });
  return { analysis: resolveAnalysis(spec.analysis), steps };
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * A short hash of the spec, independent of key order. A saved rollout state only applies to the
 * spec it was saved for: any change (a new candidate, different steps or thresholds) starts over.
 */
export function specHash(spec: RolloutSpec): string {
  return createHash('sha256').update(stableJson(spec)).digest('hex').slice(0, 16);
}
