/**
 * The Resource type: one validated Kubernetes-style object with where it came from. Every kind keeps
 * apiVersion, kind, metadata and its validated body (spec, or data/type for Secrets, endpoints/ports
 * for EndpointSlices), plus the source position of the document and of every field, so compile-time
 * errors can point at a line and column too.
 */
import type { SourcePosition } from '../lib/index.ts';
import type { BackendSpecBody } from './backend.ts';
import type { EndpointSliceBody } from './endpoint-slice.ts';
import type { GatewayClassSpec } from './gateway-class.ts';
import type { GatewaySpec } from './gateway.ts';
import type { GRPCRouteSpec } from './grpc-route.ts';
import type { HTTPRouteSpec } from './http-route.ts';
import type { MeshSpec } from './mesh.ts';
import type { ReferenceGrantSpec } from './reference-grant.ts';
import type { RolloutSpec } from './rollout.ts';
import type { SecretBody } from './secret.ts';
import type { ServiceSpec } from './service.ts';
import type { TrafficPolicySpec } from './traffic-policy.ts';

export interface ResourceMetadata {
  readonly name: string;
  /** `default` when omitted; empty for cluster-scoped kinds (GatewayClass, Namespace). */
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** RFC 3339 as written; absent in most hand-written files. */
  readonly creationTimestamp?: string;
}

/**
 * 1-based [line, column] of each field, keyed by dotted field path as `fieldPath` renders it
 * (`spec.rules[0].backendRefs[1].port`; `` for the document itself). Mapping keys point at the key,
 * sequence items at the item. Empty for resources that did not come from YAML.
 */
export type FieldPositions = ReadonlyMap<string, readonly [line: number, column: number]>;

interface ResourceBase<K extends string> {
  readonly apiVersion: string;
  readonly kind: K;
  readonly metadata: ResourceMetadata;
  /** Where the document starts (its first key). */
  readonly source: SourcePosition;
  readonly positions: FieldPositions;
}

export interface GatewayResource extends ResourceBase<'Gateway'> {
  readonly spec: GatewaySpec;
}
export interface GatewayClassResource extends ResourceBase<'GatewayClass'> {
  readonly spec: GatewayClassSpec;
}
export interface HTTPRouteResource extends ResourceBase<'HTTPRoute'> {
  readonly spec: HTTPRouteSpec;
}
export interface GRPCRouteResource extends ResourceBase<'GRPCRoute'> {
  readonly spec: GRPCRouteSpec;
}
export interface ReferenceGrantResource extends ResourceBase<'ReferenceGrant'> {
  readonly spec: ReferenceGrantSpec;
}
export interface ServiceResource extends ResourceBase<'Service'> {
  readonly spec: ServiceSpec;
}
export type EndpointSliceResource = ResourceBase<'EndpointSlice'> & EndpointSliceBody;
export type SecretResource = ResourceBase<'Secret'> & SecretBody;
export type NamespaceResource = ResourceBase<'Namespace'>;
export interface BackendResource extends ResourceBase<'Backend'> {
  readonly spec: BackendSpecBody;
}
export interface MeshResource extends ResourceBase<'Mesh'> {
  readonly spec: MeshSpec;
}
export interface TrafficPolicyResource extends ResourceBase<'TrafficPolicy'> {
  readonly spec: TrafficPolicySpec;
}
export interface RolloutResource extends ResourceBase<'Rollout'> {
  readonly spec: RolloutSpec;
}

export type Resource =
  | GatewayResource
  | GatewayClassResource
  | HTTPRouteResource
  | GRPCRouteResource
  | ReferenceGrantResource
  | ServiceResource
  | EndpointSliceResource
  | SecretResource
  | NamespaceResource
  | BackendResource
  | MeshResource
  | TrafficPolicyResource
  | RolloutResource;

export type ResourceKind = Resource['kind'];
export type RouteResource = HTTPRouteResource | GRPCRouteResource;
