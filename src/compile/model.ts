/**
 * The resource index compile works from: resources by kind and identity, the age order Gateway API
 * uses to break ties (oldest creationTimestamp, then `namespace/name`), ReferenceGrant checks and
 * namespace labels for allowedRoutes selectors.
 */
import type { ConfigError } from '../lib/index.ts';
import {
  NAMESPACE_NAME_LABEL,
  positionOf,
  resourceKey,
  type BackendResource,
  type EndpointSliceResource,
  type GatewayClassResource,
  type GatewayResource,
  type GRPCRouteResource,
  type HTTPRouteResource,
  type LabelSelector,
  type MeshResource,
  type NamespaceResource,
  type ReferenceGrantResource,
  type Resource,
  type RolloutResource,
  type SecretResource,
  type ServiceResource,
  type TrafficPolicyResource,
} from '../resources/index.ts';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export { FERRY_GROUP } from '../resources/index.ts';

export interface ResourceIndex {
  readonly all: readonly Resource[];
  readonly gatewayClasses: ReadonlyMap<string, GatewayClassResource>;
  /** Oldest first. */
  readonly gateways: readonly GatewayResource[];
  /** Oldest first. */
  readonly routes: readonly (HTTPRouteResource | GRPCRouteResource)[];
  readonly services: ReadonlyMap<string, ServiceResource>;
  readonly secrets: ReadonlyMap<string, SecretResource>;
  readonly namespaces: ReadonlyMap<string, NamespaceResource>;
  readonly grants: readonly ReferenceGrantResource[];
  readonly slices: readonly EndpointSliceResource[];
  /** Ferry Backends by `namespace/name`. */
  readonly backends: ReadonlyMap<string, BackendResource>;
  /** Oldest first (the first is the one in force). */
  readonly meshes: readonly MeshResource[];
  /** Oldest first (the oldest wins a conflict). */
  readonly policies: readonly TrafficPolicyResource[];
  /** Oldest first (the oldest wins when two drive the same rule). */
  readonly rollouts: readonly RolloutResource[];
  /** Duplicates dropped while indexing (first one wins). */
  readonly errors: readonly ConfigError[];
}

/** Milliseconds of a creationTimestamp; resources without one count as the oldest. */
function ageOf(r: Resource): number {
  const t = r.metadata.creationTimestamp;
  return t === undefined ? Number.NEGATIVE_INFINITY : Date.parse(t);
}

/** Gateway API tie-break: oldest creationTimestamp first, then `namespace/name` alphabetically. */
export function compareAge(a: Resource, b: Resource): number {
  const ta = ageOf(a);
  const tb = ageOf(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return compareStrings(`${a.metadata.namespace}/${a.metadata.name}`, `${b.metadata.namespace}/${b.metadata.name}`);
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const nsName = (namespace: string, name: string): string => `${namespace}/${name}`;

export function buildIndex(resources: readonly Resource[]): ResourceIndex {
  const seen = new Map<string, Resource>();
  const errors: ConfigError[] = [];
  const all: Resource[] = [];
  for (const r of resources) {
    const key = resourceKey(r);
    const first = seen.get(key);
    if (first) {
      errors.push({
        ...positionOf(r, 'metadata.name'),
        kind: r.kind,
        namespace: r.metadata.namespace,
        name: r.metadata.name,
        field: 'metadata.name',
        message: `duplicate ${r.kind}: already defined at ${first.source.file}:${first.source.line}:${first.source.column}; this one is ignored`,
        severity: 'error',
      });
      continue;
    }
    seen.set(key, r);
    all.push(r);
  }
  const gatewayClasses = new Map<string, GatewayClassResource>();
  const gateways: GatewayResource[] = [];
  const routes: (HTTPRouteResource | GRPCRouteResource)[] = [];
  const services = new Map<string, ServiceResource>();
  const secrets = new Map<string, SecretResource>();
  const namespaces = new Map<string, NamespaceResource>();
  const grants: ReferenceGrantResource[] = [];
  const slices: EndpointSliceResource[] = [];
  const backends = new Map<string, BackendResource>();
  const meshes: MeshResource[] = [];
  const policies: TrafficPolicyResource[] = [];
  const rollouts: RolloutResource[] = [];
  for (const r of all) {
    const key = nsName(r.metadata.namespace, r.metadata.name);
    switch (r.kind) {
      case 'GatewayClass': gatewayClasses.set(r.metadata.name, r); break;
      case 'Gateway': gateways.push(r); break;
      case 'HTTPRoute': case 'GRPCRoute': routes.push(r); break;
      case 'Service': services.set(key, r); break;
      case 'Secret': secrets.set(key, r); break;
      case 'Namespace': namespaces.set(r.metadata.name, r); break;
      case 'ReferenceGrant': grants.push(r); break;
      case 'EndpointSlice': slices.push(r); break;
      case 'Backend': backends.set(key, r); break;
      case 'Mesh': meshes.push(r); break;
      case 'TrafficPolicy': policies.push(r); break;
      case 'Rollout': rollouts.push(r); break;
    }
  }
  gateways.sort(compareAge);
  routes.sort(compareAge);
  grants.sort(compareAge);
  slices.sort(compareAge);
  meshes.sort(compareAge);
  policies.sort(compareAge);
  rollouts.sort(compareAge);
  return { all, gatewayClasses, gateways, routes, services, secrets, namespaces, grants, slices, backends, meshes, policies, rollouts, errors };
}

export interface GrantFrom {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
}
export interface GrantTo {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

const coreGroup = (g: string): string => (g === 'core' ? '' : g);

/** True when a reference from `from` to `to` is allowed: same namespace, or a ReferenceGrant in `to`'s namespace. */
export function referenceAllowed(index: ResourceIndex, from: GrantFrom, to: GrantTo): boolean {
  if (from.namespace === to.namespace) return true;
  return index.grants.some(
    (g) =>
      g.metadata.namespace === to.namespace &&
      g.spec.from.some((f) => coreGroup(f.group) === coreGroup(from.group) && f.kind === from.kind && f.namespace === from.namespace) &&
      g.spec.to.some((t) => coreGroup(t.group) === coreGroup(to.group) && t.kind === to.kind && (t.name === undefined || t.name === to.name)),
  );
}

/** Labels of a namespace: its Namespace resource's labels plus `kubernetes.io/metadata.name`. */
export function namespaceLabels(index: ResourceIndex, namespace: string): Record<string, string> {
  return { ...(index.namespaces.get(namespace)?.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: namespace };
}

/** Kubernetes label selector semantics (matchLabels AND every matchExpression). */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    const ok =
      e.operator === 'In' ? has && values.includes(labels[e.key]) :
      e.operator === 'NotIn' ? !has || !values.includes(labels[e.key]) :
      e.operator === 'Exists' ? has : !has;
    if (!ok) return false;
  }
  return true;
}
