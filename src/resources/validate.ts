/**
 * Turns one plain object (from YAML, JSON or a Kubernetes API) into a validated Resource, or into
 * ConfigErrors naming file, line, column and field. Knows the accepted kinds and apiVersions; unknown
 * kinds are a warning and are ignored.
 */
import { z } from 'zod';
import { fieldPath, type ConfigError, type SourcePosition } from '../lib/index.ts';
import { backendSpec, FERRY_API_VERSION } from './backend.ts';
import { endpointSliceBody } from './endpoint-slice.ts';
import { gatewayClassSpec } from './gateway-class.ts';
import { gatewaySpec } from './gateway.ts';
import { grpcRouteSpec } from './grpc-route.ts';
import { httpRouteSpec } from './http-route.ts';
import { meshSpec } from './mesh.ts';
import { namespaceBody } from './namespace.ts';
import { positionOf } from './positions.ts';
import { referenceGrantSpec } from './reference-grant.ts';
import { rolloutSpec } from './rollout.ts';
import { namespaceName, objectName, stringMap } from './schema-common.ts';
import { secretBody } from './secret.ts';
import { serviceSpec } from './service.ts';
import { trafficPolicySpec } from './traffic-policy.ts';
import type { FieldPositions, Resource, ResourceMetadata } from './types.ts';
import { unknownFields } from './unknown-fields.ts';

const GW = 'gateway.networking.k8s.io';

interface KindInfo {
  readonly apiVersions: readonly string[];
  readonly clusterScoped: boolean;
  /** Top-level keys whose unknown sub-fields are reported as warnings (Gateway API kinds). */
  readonly strict?: readonly string[];
  /** Validates everything but apiVersion/kind/metadata; issue paths are relative to the object. */
  readonly body: z.ZodType<Record<string, unknown>>;
}

const spec = (schema: z.ZodType) => z.object({ spec: schema });

export const KINDS: Readonly<Record<string, KindInfo>> = {
  Gateway: { apiVersions: [`${GW}/v1`, `${GW}/v1beta1`], strict: ['spec'], clusterScoped: false, body: spec(gatewaySpec) },
  GatewayClass: { apiVersions: [`${GW}/v1`, `${GW}/v1beta1`], strict: ['spec'], clusterScoped: true, body: spec(gatewayClassSpec) },
  HTTPRoute: { apiVersions: [`${GW}/v1`, `${GW}/v1beta1`], strict: ['spec'], clusterScoped: false, body: spec(httpRouteSpec.optional().transform((s) => s ?? {})) },
  GRPCRoute: { apiVersions: [`${GW}/v1`], strict: ['spec'], clusterScoped: false, body: spec(grpcRouteSpec.optional().transform((s) => s ?? {})) },
  ReferenceGrant: { apiVersions: [`${GW}/v1`, `${GW}/v1beta1`], strict: ['spec'], clusterScoped: false, body: spec(referenceGrantSpec) },
  Service: { apiVersions: ['v1'], clusterScoped: false, body: spec(serviceSpec.optional().transform((s) => s ?? {})) },
  EndpointSlice: { apiVersions: ['discovery.k8s.io/v1'], clusterScoped: false, body: endpointSliceBody },
  Secret: { apiVersions: ['v1'], clusterScoped: false, body: secretBody },
  Namespace: { apiVersions: ['v1'], clusterScoped: true, body: namespaceBody },
  Backend: { apiVersions: [FERRY_API_VERSION], strict: ['spec'], clusterScoped: false, body: spec(backendSpec) },
  Mesh: { apiVersions: [FERRY_API_VERSION], strict: ['spec'], clusterScoped: false, body: spec(meshSpec.optional().transform((s) => s ?? {})) },
  TrafficPolicy: { apiVersions: [FERRY_API_VERSION], strict: ['spec'], clusterScoped: false, body: spec(trafficPolicySpec) },
  Rollout: { apiVersions: [FERRY_API_VERSION], strict: ['spec'], clusterScoped: false, body: spec(rolloutSpec) },
};

const metadataSchema = z.object({
  name: objectName,
  namespace: namespaceName.optional(),
  labels: stringMap.optional(),
  annotations: stringMap.optional(),
  creationTimestamp: z
    .string()
    .refine((t) => !Number.isNaN(Date.parse(t)), { error: 'must be an RFC 3339 timestamp' })
    .optional(),
});

/** Where an object came from: its file, document start and field positions (empty when unknown). */
export interface ObjectOrigin {
  readonly source: SourcePosition;
  readonly positions?: FieldPositions;
}

export interface ValidationResult {
  readonly resource?: Resource;
  readonly errors: ConfigError[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value at a zod issue path in the raw object (to tell "missing" from "wrong"). */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`;
  return String(v);
}

/** Renders one zod issue as a short, user-facing sentence. */
export function issueMessage(issue: z.core.$ZodIssue, raw: unknown): string {
  const value = valueAt(raw, issue.path);
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return 'is required';
      return `must be ${issue.expected === 'int' ? 'an integer' : issue.expected === 'object' || issue.expected === 'record' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`} (got ${describe(value)})`;
    case 'too_big': {
      const n = String(issue.maximum);
      if (issue.origin === 'array') return `must have at most ${n} items (has ${(value as unknown[]).length})`;
      if (issue.origin === 'string') return `must be at most ${n} characters long`;
      return `must be at most ${n} (got ${describe(value)})`;
    }
    case 'too_small': {
      const n = String(issue.minimum);
      if (issue.origin === 'array') return `must have at least ${n} item${n === '1' ? '' : 's'}`;
      if (issue.origin === 'string') return n === '1' ? 'must not be empty' : `must be at least ${n} characters long`;
      return `must be at least ${n} (got ${describe(value)})`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')} (got ${describe(value)})`;
    default:
      return issue.message;
  }
}

/**
 * Validates one object. Unknown kinds give a warning and no resource; anything invalid gives errors
 * and no resource. `raw` is the object as parsed (extra fields such as `status` are ignored).
 */
export function resourceFromObject(raw: unknown, origin: ObjectOrigin): ValidationResult {
  const positions = origin.positions ?? new Map();
  const where = { positions, source: origin.source };
  const err = (field: string, message: string, extra: Partial<ConfigError> = {}): ConfigError => ({
    ...positionOf(where, field),
    field,
    message,
    severity: 'error',
    ...extra,
  });
  if (!isRecord(raw)) return { errors: [err('', `a resource must be a mapping (got ${describe(raw)})`)] };
  const { apiVersion, kind } = raw;
  const meta = isRecord(raw.metadata) ? raw.metadata : undefined;
  const missing = [
    typeof apiVersion !== 'string' || !apiVersion ? 'apiVersion' : '',
    typeof kind !== 'string' || !kind ? 'kind' : '',
    typeof meta?.name !== 'string' || !meta.name ? 'metadata.name' : '',
  ].filter(Boolean);
  const name = typeof meta?.name === 'string' ? meta.name : undefined;
  if (missing.length > 0) {
    return {
      errors: [
        err(missing[0], `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required in every resource`, {
          kind: typeof kind === 'string' ? kind : undefined,
          name,
        }),
      ],
    };
  }
  const k = kind as string;
  const info = Object.hasOwn(KINDS, k) ? KINDS[k] : undefined;
  const namespace = info?.clusterScoped ? '' : typeof meta?.namespace === 'string' ? meta.namespace : 'default';
  const who = { kind: k, namespace, name };
  if (!info) {
    return { errors: [err('kind', `unknown kind ${k} (${String(apiVersion)}) ignored`, { ...who, severity: 'warning' })] };
  }
  if (!info.apiVersions.includes(apiVersion as string)) {
    return { errors: [err('apiVersion', `${k} is not served as ${String(apiVersion)}; use ${info.apiVersions.join(' or ')}`, who)] };
  }
  const errors: ConfigError[] = [];
  const metaResult = metadataSchema.safeParse(meta);
  if (!metaResult.success) {
    for (const issue of metaResult.error.issues) {
      const field = fieldPath(['metadata', ...(issue.path as (string | number)[])]);
      errors.push(err(field, issueMessage(issue, meta), who));
    }
  }
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = raw;
  const body = info.body.safeParse(rest);
  if (!body.success) {
    for (const issue of body.error.issues) {
      const field = fieldPath(issue.path as (string | number)[]);
      errors.push(err(field, issueMessage(issue, rest), who));
    }
  }
  if (!metaResult.success || !body.success) {
    return { errors: errors.sort((a, b) => a.line - b.line || a.column - b.column) };
  }
  for (const field of info.strict ? unknownFields(info.body, rest, info.strict) : []) {
    errors.push(err(field, `unknown field "${field.slice(field.lastIndexOf('.') + 1)}" is ignored`, { ...who, severity: 'warning' }));
  }
  const m = metaResult.data;
  const metadata: ResourceMetadata = {
    name: m.name,
    namespace,
    labels: m.labels ?? {},
    annotations: m.annotations ?? {},
    ...(m.creationTimestamp !== undefined ? { creationTimestamp: m.creationTimestamp } : {}),
  };
  const resource = {
    apiVersion: apiVersion as string,
    kind: k,
    metadata,
    ...body.data,
    source: origin.source,
    positions,
  } as unknown as Resource;
  return { resource, errors };
}
