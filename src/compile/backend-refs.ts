/**
 * One backend reference (a route's backendRef or mirror, a Rollout's stable or candidate) → the
 * BackendSpec it names: a Service port or a Ferry Backend, with its TrafficPolicy and upstream
 * protocol, after the ReferenceGrant check for another namespace. Route rules and Rollouts resolve
 * through this one function so they agree on ids, protocols and what is allowed.
 */
import { isServiceRef, type BackendObjectRef } from '../resources/index.ts';
import type { BackendSpec, RouteKind } from '../snapshot/index.ts';
import type { BackendState } from './backends.ts';
import type { RefProblem } from './diagnostics.ts';
import { FERRY_GROUP, nsName, referenceAllowed, type GrantFrom, type ResourceIndex } from './model.ts';
import type { PolicyResolver } from './policies.ts';

const H2C_APP_PROTOCOLS = ['kubernetes.io/h2c', 'grpc'];

/** What backend references resolve against besides the resource index. */
export interface BackendContext {
  /** Ferry Backends by `namespace/name`. */
  readonly backends: ReadonlyMap<string, BackendState>;
  readonly policies: PolicyResolver;
}

/** Who refers to a backend: decides the ReferenceGrant check and the upstream protocol. */
export interface BackendReferrer {
  /** The kind of route the backend serves (GRPCRoute backends are reached over h2c). */
  readonly routeKind: RouteKind;
  /** The referrer's namespace: the default for the ref's namespace. */
  readonly namespace: string;
  /** A ReferenceGrant allowing any one of these permits a reference into another namespace. */
  readonly from: readonly GrantFrom[];
  /** For messages: "HTTPRoutes", "HTTPRoutes or Rollouts". */
  readonly fromLabel: string;
}

export type RefResolution =
  | { readonly backend: BackendSpec; readonly problem?: undefined; readonly warnings: readonly RefProblem[] }
  | { readonly backend?: undefined; readonly problem: RefProblem; readonly warnings: readonly RefProblem[] };

const failed = (problem: RefProblem): RefResolution => ({ problem, warnings: [] });

function allowed(index: ResourceIndex, who: BackendReferrer, to: { group: string; kind: string; namespace: string; name: string }): boolean {
  return who.from.some((from) => referenceAllowed(index, from, to));
}

export function resolveBackendRef(index: ResourceIndex, ctx: BackendContext, who: BackendReferrer, ref: BackendObjectRef, field: string): RefResolution {
  const namespace = ref.namespace ?? who.namespace;
  const id = nsName(namespace, ref.name);
  const notPermitted = (kind: string): RefResolution =>
    failed({ reason: 'RefNotPermitted', field, message: `${kind} ${id} is in another namespace and no ReferenceGrant there allows ${who.fromLabel} from namespace ${who.namespace}` });
  if ((ref.group ?? '') === FERRY_GROUP && ref.kind === 'Backend') {
    // A Backend: port 0 (its endpoints carry their ports); a port on the ref is ignored.
    if (!allowed(index, who, { group: FERRY_GROUP, kind: 'Backend', namespace, name: ref.name })) return notPermitted('Backend');
    const state = ctx.backends.get(id);
    if (!state) return failed({ reason: 'BackendNotFound', field, message: `Backend ${id} not found` });
    if (!state.valid) return failed({ reason: 'BackendNotFound', field, message: `Backend ${id} is not valid: ${state.invalidReason ?? 'see its status'}` });
    const warnings: RefProblem[] = ref.port === undefined ? [] : [{ reason: 'Ignored', field: `${field}.port`, message: 'port is ignored for a Backend: its endpoints carry their own ports' }];
    return {
      backend: {
        id: state.id,
        kind: 'Backend',
        namespace,
        name: ref.name,
        port: 0,
        protocol: who.routeKind === 'GRPCRoute' ? 'h2c' : state.protocol,
        policy: ctx.policies.forBackend(state),
      },
      warnings,
    };
  }
  if (!isServiceRef(ref)) {
    return failed({ reason: 'InvalidKind', field, message: `backendRef kind ${ref.kind ?? 'Service'} (group "${ref.group ?? ''}") is not supported; use a Service, or a Backend (group ${FERRY_GROUP})` });
  }
  if (!allowed(index, who, { group: '', kind: 'Service', namespace, name: ref.name })) return notPermitted('Service');
  const svc = index.services.get(id);
  const port = svc?.spec.ports?.find((p) => p.port === ref.port);
  if (!svc) return failed({ reason: 'BackendNotFound', field, message: `Service ${id} not found` });
  if (!port) return failed({ reason: 'BackendNotFound', field, message: `Service ${id} has no port ${ref.port}` });
  const h2c = who.routeKind === 'GRPCRoute' || H2C_APP_PROTOCOLS.includes(port.appProtocol ?? '');
  return {
    backend: {
      id: `Service/${id}:${port.port}`,
      kind: 'Service',
      namespace,
      name: ref.name,
      port: port.port,
      protocol: h2c ? 'h2c' : 'http1',
      policy: ctx.policies.forService(namespace, ref.name, port),
    },
    warnings: [],
  };
}
