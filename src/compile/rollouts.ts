/**
 * Rollouts → their targets: `spec.targetRef` to one compiled route rule, `stable` and `candidate` to
 * backend ids (the same resolution and ReferenceGrant rules as route backendRefs), and the Rollout's
 * status. A Rollout is usable only when everything resolves: the rule exists, no older Rollout
 * drives it, both backends resolve and differ, and stable is one of the rule's backendRefs. The
 * candidate need not be: the override step appends it (rollout-overrides.ts).
 *
 * A cross-namespace stable or candidate needs a ReferenceGrant in its namespace allowing either the
 * route's kind or `ferry.dev` `Rollout` from the Rollout's namespace.
 */
import type { ConfigError } from '../lib/index.ts';
import type { RolloutResource, RolloutSpec, RouteResource } from '../resources/index.ts';
import type { BackendSpec, Condition } from '../snapshot/index.ts';
import { resolveBackendRef, type BackendContext } from './backend-refs.ts';
import { condition, resourceError, type RefProblem } from './diagnostics.ts';
import { FERRY_GROUP, GATEWAY_GROUP, nsName, type ResourceIndex } from './model.ts';
import type { CompiledRoute, CompiledRule } from './rules.ts';

/** The ids a Rollout drives, as the rollout controller needs them. */
export interface RolloutTargetIds {
  /** `HTTPRoute/namespace/name/rule/<index>`. */
  readonly ruleId: string;
  readonly stableBackendId: string;
  readonly candidateBackendId: string;
}

/** What compile tells the rollout controller about one Rollout. */
export interface RolloutOutcome {
  readonly namespace: string;
  readonly name: string;
  readonly spec: RolloutSpec;
  /** Null when the Rollout cannot drive anything (see `problem`). */
  readonly targets: RolloutTargetIds | null;
  /** Why `targets` is null: the first problem found. */
  readonly problem: string | null;
}

/** One Rollout after resolution; `rule`, `stable` and `candidate` are set when it is usable. */
export interface RolloutState {
  /** `namespace/name`. */
  readonly key: string;
  readonly resource: RolloutResource;
  readonly route?: RouteResource;
  readonly ruleIndex?: number;
  readonly stable?: BackendSpec;
  readonly candidate?: BackendSpec;
  readonly outcome: RolloutOutcome;
  readonly accepted: boolean;
  readonly conditions: readonly Condition[];
  readonly errors: readonly ConfigError[];
}

interface Target {
  readonly route?: RouteResource;
  readonly ruleIndex?: number;
  readonly ruleId?: string;
  readonly problem?: RefProblem;
}

/** The route and rule a Rollout names, or why they cannot be found. */
function resolveTarget(index: ResourceIndex, compiled: ReadonlyMap<RouteResource, CompiledRoute>, r: RolloutResource): Target {
  const ref = r.spec.targetRef;
  const id = `${ref.kind} ${nsName(r.metadata.namespace, ref.name)}`;
  const route = index.routes.find((x) => x.kind === ref.kind && x.metadata.namespace === r.metadata.namespace && x.metadata.name === ref.name);
  if (!route) return { problem: { reason: 'TargetNotFound', field: 'spec.targetRef.name', message: `${id} not found (a Rollout targets a route in its own namespace)` } };
  const rules: readonly { name?: string }[] = route.spec.rules ?? [{}];
  const count = `it has ${rules.length} rule${rules.length === 1 ? '' : 's'}`;
  let ruleIndex: number;
  if (ref.rule === undefined) {
    if (rules.length !== 1) return { route, problem: { reason: 'TargetNotFound', field: 'spec.targetRef', message: `${id} has ${rules.length} rules; set targetRef.rule to a rule index or name` } };
    ruleIndex = 0;
  } else if (typeof ref.rule === 'number') {
    if (ref.rule >= rules.length) return { route, problem: { reason: 'TargetNotFound', field: 'spec.targetRef.rule', message: `${id} has no rule ${ref.rule} (${count})` } };
    ruleIndex = ref.rule;
  } else {
    ruleIndex = rules.findIndex((x) => x.name === ref.rule);
    if (ruleIndex < 0) return { route, problem: { reason: 'TargetNotFound', field: 'spec.targetRef.rule', message: `${id} has no rule named "${ref.rule}"` } };
  }
  const rule = compiled.get(route)?.rules[ruleIndex];
  if (!rule) throw new Error(`unreachable: rule ${ruleIndex} of ${id} was not compiled`);
  return { route, ruleIndex, ruleId: rule.spec.id };
}

export interface RolloutResolution {
  readonly states: readonly RolloutState[];
  readonly errors: readonly ConfigError[];
}

interface Draft {
  readonly r: RolloutResource;
  readonly key: string;
  readonly target: Target;
  readonly rule?: CompiledRule;
  readonly stable?: BackendSpec;
  readonly candidate?: BackendSpec;
  /** Makes the Rollout not Accepted (target, same backend, stable not in the rule, conflict). */
  problem?: RefProblem;
  /** Unresolved stable or candidate (ResolvedRefs). */
  readonly refProblems: readonly RefProblem[];
  readonly warnings: ConfigError[];
}

/** Everything about one Rollout but conflicts with other Rollouts. */
function draft(index: ResourceIndex, compiled: ReadonlyMap<RouteResource, CompiledRoute>, ctx: BackendContext, r: RolloutResource): Draft {
  const ns = r.metadata.namespace;
  const target = resolveTarget(index, compiled, r);
  const routeKind = r.spec.targetRef.kind;
  const who = {
    routeKind,
    namespace: ns,
    from: [{ group: GATEWAY_GROUP, kind: routeKind, namespace: ns }, { group: FERRY_GROUP, kind: 'Rollout', namespace: ns }],
    fromLabel: `${routeKind}s or Rollouts`,
  };
  const warnings: ConfigError[] = [];
  const refProblems: RefProblem[] = [];
  const resolve = (field: 'stable' | 'candidate'): BackendSpec | undefined => {
    const res = resolveBackendRef(index, ctx, who, r.spec[field], `spec.${field}`);
    for (const w of res.warnings) warnings.push(resourceError(r, w.field, w.message, 'warning'));
    if (res.problem) refProblems.push(res.problem);
    return res.backend;
  };
  const stable = resolve('stable');
  const candidate = resolve('candidate');
  const rule = target.route && target.ruleIndex !== undefined ? compiled.get(target.route)?.rules[target.ruleIndex] : undefined;
  let problem = target.problem;
  if (!problem && stable && candidate && rule) {
    if (stable.id === candidate.id) {
      problem = { reason: 'Invalid', field: 'spec.candidate', message: `stable and candidate are the same backend (${stable.id})` };
    } else if (!rule.spec.backends.some((b) => b.backendId === stable.id)) {
      const listed = rule.spec.backends.map((b) => b.backendId ?? 'an invalid backendRef').join(', ') || 'none';
      problem = { reason: 'StableNotInRule', field: 'spec.stable', message: `stable backend ${stable.id} is not a backendRef of ${rule.spec.id} (its backendRefs: ${listed})` };
    }
  }
  return { r, key: nsName(ns, r.metadata.name), target, rule, stable, candidate, problem, refProblems, warnings };
}

/**
 * Resolves every Rollout. Of several otherwise usable Rollouts on one rule, the oldest drives it and
 * the others are Conflicted; a Rollout that cannot be used claims nothing. `served(route)` tells
 * whether a route is attached to a served listener (a Rollout on a route that is not is usable but
 * has no traffic to move: a warning).
 */
export function resolveRollouts(
  index: ResourceIndex,
  compiled: ReadonlyMap<RouteResource, CompiledRoute>,
  ctx: BackendContext,
  served: (route: RouteResource) => boolean,
): RolloutResolution {
  const owners = new Map<string, string>();
  const states: RolloutState[] = [];
  for (const d of index.rollouts.map((r) => draft(index, compiled, ctx, r))) {
    const { r, key, rule, stable, candidate, refProblems } = d;
    const route = d.target.route;
    const ns = r.metadata.namespace;
    if (!d.problem && refProblems.length === 0 && rule) {
      const owner = owners.get(rule.spec.id);
      if (owner) d.problem = { reason: 'Conflicted', field: 'spec.targetRef', message: `Rollout ${owner} (older) already drives ${rule.spec.id}; only one Rollout may drive a rule` };
      else owners.set(rule.spec.id, key);
    }
    const errors: ConfigError[] = [...d.warnings];
    if (d.problem) errors.push(resourceError(r, d.problem.field, d.problem.message));
    for (const p of refProblems) errors.push(resourceError(r, p.field, p.message));

    const resolvedRefs =
      refProblems.length === 0
        ? condition('ResolvedRefs', true, 'ResolvedRefs', `stable ${stable?.id}, candidate ${candidate?.id}`)
        : condition('ResolvedRefs', false, refProblems[0].reason, refProblems.map((p) => p.message).join('; '));
    let accepted: Condition;
    let targets: RolloutTargetIds | null = null;
    if (!d.problem && refProblems.length === 0 && stable && candidate && rule && route) {
      targets = { ruleId: rule.spec.id, stableBackendId: stable.id, candidateBackendId: candidate.id };
      accepted = condition('Accepted', true, 'Accepted', `Drives ${rule.spec.id}`);
      const others = rule.spec.backends.filter((b) => b.backendId !== stable.id && b.backendId !== candidate.id).map((b) => b.backendId ?? 'an invalid backendRef');
      if (others.length > 0) {
        errors.push(resourceError(r, 'spec.stable', `while this Rollout drives ${rule.spec.id}, its other backendRefs get weight 0: ${others.join(', ')}`, 'warning'));
      }
      if (!served(route)) {
        errors.push(resourceError(r, 'spec.targetRef.name', `${route.kind} ${nsName(ns, route.metadata.name)} is not attached to any served listener: there is no traffic to move until it is`, 'warning'));
      }
    } else if (d.problem) {
      accepted = condition('Accepted', false, d.problem.reason, d.problem.message);
    } else {
      accepted = condition('Accepted', false, 'UnresolvedRefs', 'stable or candidate cannot be resolved; see ResolvedRefs');
    }
    const problem = targets ? null : (d.problem?.message ?? refProblems[0]?.message ?? null);
    states.push({
      key,
      resource: r,
      ...(targets ? { route, ruleIndex: d.target.ruleIndex, stable, candidate } : {}),
      outcome: { namespace: ns, name: r.metadata.name, spec: r.spec, targets, problem },
      accepted: targets !== null,
      conditions: [accepted, resolvedRefs],
      errors,
    });
  }
  return { states, errors: states.flatMap((s) => s.errors) };
}
