/**
 * TrafficPolicy attachment (Gateway API policy attachment, direct policies): each targetRef names a
 * Service (optionally one port, by `sectionName`) or a Backend in the policy's namespace.
 *
 * - Several policies on the same target: the oldest (creationTimestamp, then `namespace/name`) wins
 *   as a whole; the others are `Conflicted` on that target, naming the winner.
 * - A port-specific target (`sectionName`) is more specific than the whole Service and wins for that
 *   port, whatever the ages.
 * - A subset Backend inherits its parent's policy unless a policy targets the subset itself.
 * - A target that does not exist is `TargetNotFound` in the policy's status; it is not an error.
 */
import type { ServicePort, TrafficPolicyResource } from '../resources/index.ts';
import { DEFAULT_BACKEND_POLICY, type BackendPolicy, type ParentStatus } from '../snapshot/index.ts';
import type { BackendState } from './backends.ts';
import { condition } from './diagnostics.ts';
import { nsName, type ResourceIndex } from './model.ts';
import { backendPolicy } from './policy-spec.ts';

export interface PolicyResolver {
  forService(namespace: string, name: string, port: ServicePort): BackendPolicy;
  forBackend(state: BackendState): BackendPolicy;
  /** Per-target status of every TrafficPolicy. */
  readonly statuses: ReadonlyMap<TrafficPolicyResource, readonly ParentStatus[]>;
}

interface Winner {
  readonly policy: TrafficPolicyResource;
  readonly spec: BackendPolicy;
}

export function resolvePolicies(index: ResourceIndex, backends: ReadonlyMap<string, BackendState>): PolicyResolver {
  const winners = new Map<string, Winner>();
  const statuses = new Map<TrafficPolicyResource, ParentStatus[]>();
  for (const policy of index.policies) {
    const ns = policy.metadata.namespace;
    const source = nsName(ns, policy.metadata.name);
    const spec = backendPolicy(source, policy.spec);
    const parents: ParentStatus[] = [];
    for (const t of policy.spec.targetRefs) {
      const isBackend = t.kind === 'Backend';
      const target = `${t.kind}/${ns}/${t.name}${t.sectionName !== undefined ? `/${t.sectionName}` : ''}`;
      let missing: string | undefined;
      if (isBackend) {
        const state = backends.get(nsName(ns, t.name));
        if (!state) missing = `Backend ${nsName(ns, t.name)} not found`;
        else if (!state.valid) missing = `Backend ${nsName(ns, t.name)} is not valid: ${state.invalidReason ?? ''}`;
      } else {
        const svc = index.services.get(nsName(ns, t.name));
        if (!svc) missing = `Service ${nsName(ns, t.name)} not found`;
        else if (t.sectionName !== undefined && !svc.spec.ports?.some((p) => p.name === t.sectionName)) {
          missing = `Service ${nsName(ns, t.name)} has no port named ${t.sectionName}`;
        }
      }
      if (missing !== undefined) {
        parents.push({ parentRef: target, conditions: [condition('Accepted', false, 'TargetNotFound', missing)] });
        continue;
      }
      const prev = winners.get(target);
      if (prev) {
        const message = `${target} is already targeted by TrafficPolicy ${nsName(prev.policy.metadata.namespace, prev.policy.metadata.name)}, which is older and applies`;
        parents.push({
          parentRef: target,
          conditions: [condition('Accepted', false, 'Conflicted', message), condition('Conflicted', true, 'Conflicted', message)],
        });
        continue;
      }
      winners.set(target, { policy, spec });
      parents.push({
        parentRef: target,
        conditions: [condition('Accepted', true, 'Accepted', 'Policy applies to the target'), condition('Conflicted', false, 'NoConflicts', 'No other policy targets it')],
      });
    }
    statuses.set(policy, parents);
  }
  const forBackend = (state: BackendState): BackendPolicy => {
    const own = winners.get(`Backend/${state.resource.metadata.namespace}/${state.resource.metadata.name}`);
    if (own) return own.spec;
    return state.parent ? forBackend(state.parent) : DEFAULT_BACKEND_POLICY;
  };
  return {
    statuses,
    forBackend,
    forService(namespace, name, port) {
      const byPort = port.name ? winners.get(`Service/${namespace}/${name}/${port.name}`) : undefined;
      return (byPort ?? winners.get(`Service/${namespace}/${name}`))?.spec ?? DEFAULT_BACKEND_POLICY;
    },
  };
}
