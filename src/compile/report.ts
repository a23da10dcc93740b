/**
 * The compile report: a ResourceStatus per resource (Gateway conditions and one entry per listener,
 * route conditions per parentRef, GatewayClass acceptance, plain acceptance for the rest, and
 * rejected resources known only from their errors) plus every error, in a stable order.
 */
import type { ConfigError } from '../lib/index.ts';
import { FERRY_CONTROLLER_NAME, resourceKey, type Resource, type TrafficPolicyResource } from '../resources/index.ts';
import type { CompileReport, Condition, ParentStatus, ResourceStatus } from '../snapshot/index.ts';
import type { RouteAttachment } from './attach.ts';
import type { BackendState } from './backends.ts';
import { condition } from './diagnostics.ts';
import type { GatewayState, ListenerState } from './gateways.ts';
import type { MeshState } from './mesh.ts';
import { compareStrings, nsName, type ResourceIndex } from './model.ts';
import type { CompiledRoute } from './rules.ts';

const errorKey = (e: ConfigError): string => `${e.kind}/${e.namespace ?? ''}/${e.name}`;

function listenerStatus(l: ListenerState): ParentStatus {
  const attached = `; attachedRoutes: ${l.attachedRoutes}`;
  const why =
    l.accepted.status === 'False' ? l.accepted.message :
    l.conflicted.status === 'True' ? l.conflicted.message :
    'no usable TLS certificate';
  const programmed = l.programmed
    ? condition('Programmed', true, 'Programmed', `Serving on ${l.bindKey}`)
    : condition('Programmed', false, 'Invalid', `Listener is not served: ${why}`);
  return {
    parentRef: `listener/${l.spec.name}`,
    conditions: [{ ...l.accepted, message: l.accepted.message + attached }, l.conflicted, l.resolvedRefs, programmed],
  };
}

function gatewayConditions(g: GatewayState): Condition[] {
  if (!g.managed) return [condition('Accepted', false, 'Invalid', g.classMessage)];
  const bad = g.listeners.filter((l) => !l.programmed).map((l) => l.spec.name);
  const good = g.listeners.filter((l) => l.programmed);
  const accepted =
    bad.length === 0
      ? condition('Accepted', true, 'Accepted', 'Gateway is accepted')
      : condition('Accepted', good.length > 0, 'ListenersNotValid', `listeners not valid: ${bad.join(', ')}`);
  const programmed =
    good.length > 0
      ? condition('Programmed', true, 'Programmed', `Serving on ${[...new Set(good.map((l) => l.bindKey))].join(', ')}`)
      : condition('Programmed', false, 'Invalid', 'No listener can be served');
  return [accepted, programmed];
}

function routeParents(a: RouteAttachment, c: CompiledRoute): ParentStatus[] {
  const resolved =
    c.refProblems.length === 0
      ? condition('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved')
      : condition('ResolvedRefs', false, c.refProblems[0].reason, [...new Set(c.refProblems.map((p) => p.message))].join('; '));
  const partial = c.unsupported.length > 0 ? [condition('PartiallyInvalid', true, 'UnsupportedValue', c.unsupported.join('; '))] : [];
  return a.parents.map((p) => ({ parentRef: p.label, conditions: [p.accepted, resolved, ...partial] }));
}

export interface ReportInput {
  readonly index: ResourceIndex;
  readonly gateways: readonly GatewayState[];
  readonly routes: readonly RouteAttachment[];
  readonly compiled: ReadonlyMap<Resource, CompiledRoute>;
  readonly errors: readonly ConfigError[];
  readonly mesh: MeshState;
  /** Ferry Backends by `namespace/name`. */
  readonly backends: ReadonlyMap<string, BackendState>;
  readonly policies: ReadonlyMap<TrafficPolicyResource, readonly ParentStatus[]>;
  readonly rollouts: ReadonlyMap<Resource, { readonly accepted: boolean; readonly conditions: readonly Condition[] }>;
}

function backendConditions(b: BackendState): Condition[] {
  if (!b.valid) return [condition('Accepted', false, 'Invalid', b.invalidReason ?? 'invalid')];
  const resolved =
    b.problems.length === 0
      ? condition('ResolvedRefs', true, 'ResolvedRefs', b.parent ? `Subset of Backend ${nsName(b.parent.resource.metadata.namespace, b.parent.resource.metadata.name)}` : 'All sources resolved')
      : condition('ResolvedRefs', false, b.problems[0].reason, b.problems.map((p) => p.message).join('; '));
  return [condition('Accepted', true, 'Accepted', 'Backend is accepted'), resolved];
}

function compareErrors(a: ConfigError, b: ConfigError): number {
  return compareStrings(a.file, b.file) || a.line - b.line || a.column - b.column;
}

export function buildReport(input: ReportInput): CompileReport {
  const errors = [...input.errors].sort(compareErrors);
  const byResource = new Map<string, ConfigError[]>();
  for (const e of errors) {
    if (!e.kind || !e.name) continue;
    const list = byResource.get(errorKey(e)) ?? [];
    list.push(e);
    byResource.set(errorKey(e), list);
  }
  const gateways = new Map(input.gateways.map((g) => [g.resource as Resource, g]));
  const routes = new Map(input.routes.map((r) => [r.route as Resource, r]));
  const statuses = new Map<string, ResourceStatus>();
  for (const r of input.index.all) {
    const key = resourceKey(r);
    let accepted = true;
    let conditions: Condition[] = [];
    let parents: ParentStatus[] = [];
    const g = gateways.get(r);
    const route = routes.get(r);
    if (g) {
      conditions = gatewayConditions(g);
      parents = g.listeners.map(listenerStatus);
      accepted = conditions[0].status === 'True';
    } else if (route) {
      parents = routeParents(route, input.compiled.get(r) as CompiledRoute);
      accepted = route.parents.some((p) => p.accepted.status === 'True');
    } else if (r.kind === 'Backend') {
      const b = input.backends.get(nsName(r.metadata.namespace, r.metadata.name)) as BackendState;
      conditions = backendConditions(b);
      accepted = b.valid;
    } else if (r.kind === 'TrafficPolicy') {
      conditions = [condition('Accepted', true, 'Accepted', 'TrafficPolicy is accepted; see each target')];
      parents = [...(input.policies.get(r) ?? [])];
    } else if (r.kind === 'Rollout') {
      const s = input.rollouts.get(r);
      conditions = [...(s?.conditions ?? [])];
      accepted = s?.accepted ?? false;
    } else if (r.kind === 'Mesh') {
      accepted = !input.mesh.rejected.has(r);
      const inForce = input.mesh.mesh ? nsName(input.mesh.mesh.metadata.namespace, input.mesh.mesh.metadata.name) : '';
      conditions = [
        accepted
          ? condition('Accepted', true, 'Accepted', 'Mesh is in force')
          : condition('Accepted', false, 'Conflicted', `Mesh ${inForce} is older and in force; only one Mesh is allowed`),
      ];
    } else if (r.kind === 'GatewayClass') {
      accepted = r.spec.controllerName === FERRY_CONTROLLER_NAME;
      conditions = [
        accepted
          ? condition('Accepted', true, 'Accepted', `Handled by ${FERRY_CONTROLLER_NAME}`)
          : condition('Accepted', false, 'Pending', `controllerName ${r.spec.controllerName} is not ${FERRY_CONTROLLER_NAME}; not handled by Ferry`),
      ];
    }
    statuses.set(key, {
      kind: r.kind,
      namespace: r.metadata.namespace,
      name: r.metadata.name,
      file: r.source.file,
      line: r.source.line,
      accepted,
      conditions,
      parents,
      errors: byResource.get(key) ?? [],
    });
  }
  for (const [key, list] of byResource) {
    if (statuses.has(key)) continue;
    const first = list[0];
    statuses.set(key, {
      kind: first.kind as string,
      namespace: first.namespace ?? '',
      name: first.name as string,
      file: first.file,
      line: first.line,
      accepted: false,
      conditions: [condition('Accepted', false, 'Invalid', first.message)],
      parents: [],
      errors: list,
    });
  }
  const resources = [...statuses.values()].sort(
    (a, b) => compareStrings(a.kind, b.kind) || compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name),
  );
  return { resources, errors };
}
