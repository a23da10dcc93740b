/**
 * Applies Rollouts to compiled routes: each usable Rollout's rule gets the candidate appended (weight
 * 0) when the route does not list it, and, with a traffic override from the rollout controller,
 * the override's weights, mirror, header gate or sticky split. Only that rule changes.
 *
 * Without an override the rule keeps its declared weights: compile treats "no override" as
 * "declared". The app passes an override for every active Rollout (stable only before it starts).
 *
 * A header gate adds, next to each match of the rule, a match with the gate's headers too that leads
 * to a synthetic rule `<ruleId>/rollout-gate` (the rule's filters, timeouts and retry, candidate
 * only). It has more header matches than the original, so normal precedence puts it first.
 */
import type { BackendSpec, FilterSpec, HashOn, RequestMirrorFilter, RuleRollout, RuleSpec, StickySplit, ValueMatch, WeightedBackend } from '../snapshot/index.ts';
import type { RouteResource } from '../resources/index.ts';
import type { RolloutState } from './rollouts.ts';
import type { CompiledRoute, CompiledRule } from './rules.ts';

/**
 * A traffic override as the rollout controller computes it (the shape of src/rollout's
 * TrafficOverride, declared here so compile does not depend on the controller).
 */
export interface TrafficOverrideInput {
  /** The rule the controller believes it drives; compile applies the override to the rule it resolves. */
  readonly ruleId?: string;
  /** Percent of live requests to each copy (stable + candidate = 100). */
  readonly weights: { readonly stable: number; readonly candidate: number };
  readonly mirror: { readonly percent: number } | null;
  readonly headerGate: {
    readonly headers: readonly { readonly name: string; readonly type: 'Exact' | 'RegularExpression'; readonly value: string }[];
  } | null;
  readonly sticky: {
    readonly percent: number;
    readonly hashOn: { readonly cookie: { readonly name: string } } | { readonly header: { readonly name: string } };
  } | null;
}

/** Overrides by the Rollout's `namespace/name`. */
export type TrafficOverrides = ReadonlyMap<string, TrafficOverrideInput>;

export const GATE_RULE_SUFFIX = '/rollout-gate';
/** Rollout mirror defaults (a Rollout compares responses, so its body limit is smaller than a route mirror's). */
export const ROLLOUT_MIRROR_MAX_BODY_BYTES = 64 * 1024;

function hashOnOf(h: NonNullable<TrafficOverrideInput['sticky']>['hashOn']): HashOn {
  return 'cookie' in h ? { type: 'Cookie', name: h.cookie.name, ttlSeconds: 0, path: '/' } : { type: 'Header', name: h.header.name.toLowerCase() };
}

function mirrorFilter(s: RolloutState, percent: number, candidateId: string): RequestMirrorFilter {
  const m = s.resource.spec.mirror;
  return {
    type: 'RequestMirror',
    backendId: candidateId,
    numerator: percent,
    denominator: 100,
    maxBodyBytes: m?.maxBodyBytes ?? ROLLOUT_MIRROR_MAX_BODY_BYTES,
    allowUnsafeMethods: m?.allowUnsafeMethods ?? false,
    host: m?.host ? m.host.toLowerCase() : null,
    compare: { key: s.key, noise: m?.noise ?? true },
  };
}

/** The rule as a Rollout drives it: one or two CompiledRules (the rule, and its gate rule). */
function driveRule(s: RolloutState, rule: CompiledRule, o: TrafficOverrideInput | undefined): CompiledRule[] {
  const stable = s.stable as BackendSpec;
  const candidate = s.candidate as BackendSpec;
  const spec = rule.spec;
  const appended = !spec.backends.some((b) => b.backendId === candidate.id);
  const entries: WeightedBackend[] = appended ? [...spec.backends, { backendId: candidate.id, weight: 0, filters: [] }] : [...spec.backends];
  const backends = rule.backends.some((b) => b.id === candidate.id) ? rule.backends : [...rule.backends, candidate];
  if (!o) return [{ ...rule, spec: { ...spec, backends: entries }, backends }];

  const rollout: RuleRollout = {
    name: s.key,
    declared: entries.map((b) => b.weight),
    stableBackendId: stable.id,
    candidateBackendId: candidate.id,
  };
  // The first entry of each copy gets its weight; any other entry (a third backend, a repeat) gets 0.
  const given = new Set<string>();
  const weighted = entries.map((b): WeightedBackend => {
    const id = b.backendId;
    let weight = 0;
    if (id !== null && !given.has(id)) {
      if (id === stable.id) weight = o.weights.stable;
      else if (id === candidate.id) weight = o.weights.candidate;
      if (id === stable.id || id === candidate.id) given.add(id);
    }
    return { ...b, weight };
  });
  const filters: FilterSpec[] = o.mirror ? [...spec.filters, mirrorFilter(s, o.mirror.percent, candidate.id)] : [...spec.filters];
  const sticky: StickySplit | undefined = o.sticky
    ? { percent: o.sticky.percent, hashOn: hashOnOf(o.sticky.hashOn), stableBackendId: stable.id, candidateBackendId: candidate.id }
    : undefined;
  const driven: RuleSpec = { ...spec, filters, backends: weighted, rollout, ...(sticky ? { sticky } : {}) };
  const out: CompiledRule[] = [{ ...rule, spec: driven, backends }];

  if (o.headerGate && o.headerGate.headers.length > 0) {
    const gate: ValueMatch[] = o.headerGate.headers.map((h) => ({ name: h.name.toLowerCase(), type: h.type, value: h.value }));
    const own = entries.find((b) => b.backendId === candidate.id) as WeightedBackend;
    const gateSpec: RuleSpec = {
      ...spec,
      id: `${spec.id}${GATE_RULE_SUFFIX}`,
      backends: [{ backendId: candidate.id, weight: 1, filters: own.filters }],
      rollout: { ...rollout, declared: [own.weight] },
    };
    out.push({
      spec: gateSpec,
      backends: [candidate],
      matches: rule.matches.map((m) => ({
        match: { ...m.match, headers: [...m.match.headers, ...gate] },
        key: { ...m.key, headers: m.key.headers + gate.length, gate: true },
      })),
    });
  }
  return out;
}

/**
 * The compiled routes with every usable Rollout applied. Routes no Rollout drives are returned as
 * they are; overrides for unknown or unusable Rollouts are ignored.
 */
export function applyRollouts(
  compiled: ReadonlyMap<RouteResource, CompiledRoute>,
  states: readonly RolloutState[],
  overrides: TrafficOverrides | undefined,
): Map<RouteResource, CompiledRoute> {
  const out = new Map(compiled);
  for (const s of states) {
    if (!s.route || s.ruleIndex === undefined || !s.outcome.targets) continue;
    const route = out.get(s.route) as CompiledRoute;
    const ruleId = s.outcome.targets.ruleId;
    const rules = route.rules.flatMap((rule) => (rule.spec.id === ruleId ? driveRule(s, rule, overrides?.get(s.key)) : [rule]));
    out.set(s.route, { ...route, rules });
  }
  return out;
}
