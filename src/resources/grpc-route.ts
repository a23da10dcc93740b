/**
 * GRPCRoute (gateway.networking.k8s.io/v1): schema and types, with the CRD's limits (16 hostnames,
 * 16 rules, 8 matches per rule, 16 filters, 16 backendRefs) and method-match CEL rules.
 */
import { z } from 'zod';
import { checkRules } from './http-route.ts';
import {
  backendObjectRefShape,
  extensionRef,
  filterConfigMatchesType,
  filtersNotRepeated,
  headerModifier,
  headerName,
  hostname,
  parentRefs,
  regexString,
  requestMirror,
  requirePortForService,
  sectionName,
  weight,
} from './schema-common.ts';

const SERVICE_PATTERN = /^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$/i;
const METHOD_PATTERN = /^[A-Za-z_][A-Za-z_0-9]*$/;

const methodMatch = z
  .object({
    type: z.enum(['Exact', 'RegularExpression']).optional(),
    service: z.string().max(1024).optional(),
    method: z.string().max(1024).optional(),
  })
  .superRefine((m, ctx) => {
    if (!m.service && !m.method) {
      ctx.addIssue({ code: 'custom', message: "one or both of 'service' or 'method' must be specified" });
      return;
    }
    if ((m.type ?? 'Exact') === 'Exact') {
      if (m.service && !SERVICE_PATTERN.test(m.service)) {
        ctx.addIssue({ code: 'custom', path: ['service'], message: 'must be a gRPC service name such as "pkg.v1.Greeter"' });
      }
      if (m.method && !METHOD_PATTERN.test(m.method)) {
        ctx.addIssue({ code: 'custom', path: ['method'], message: 'must be a gRPC method name such as "SayHello"' });
      }
      return;
    }
    for (const field of ['service', 'method'] as const) {
      const value = m[field];
      if (value === undefined) continue;
      const r = regexString.safeParse(value);
      if (!r.success) ctx.addIssue({ code: 'custom', path: [field], message: r.error.issues[0].message });
    }
  });
export type GRPCMethodMatch = z.infer<typeof methodMatch>;

const headerMatch = z.object({
  type: z.enum(['Exact', 'RegularExpression']).optional(),
  name: headerName,
  value: z.string().min(1).max(4096),
});

export const grpcRouteMatch = z
  .object({ method: methodMatch.optional(), headers: z.array(headerMatch).max(16).optional() })
  .superRefine((m, ctx) => {
    const seen = new Set<string>();
    (m.headers ?? []).forEach((h, i) => {
      const key = h.name.toLowerCase();
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['headers', i, 'name'], message: `"${h.name}" is matched twice; only one match per name is allowed` });
      seen.add(key);
      if (h.type === 'RegularExpression') {
        const r = regexString.safeParse(h.value);
        if (!r.success) ctx.addIssue({ code: 'custom', path: ['headers', i, 'value'], message: r.error.issues[0].message });
      }
    });
  });
export type GRPCRouteMatch = z.infer<typeof grpcRouteMatch>;

export const grpcRouteFilter = z
  .object({
    type: z.enum(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'ExtensionRef']),
    requestHeaderModifier: headerModifier.optional(),
    responseHeaderModifier: headerModifier.optional(),
    requestMirror: requestMirror.optional(),
    extensionRef: extensionRef.optional(),
  })
  .superRefine(
    filterConfigMatchesType({
      RequestHeaderModifier: 'requestHeaderModifier',
      ResponseHeaderModifier: 'responseHeaderModifier',
      RequestMirror: 'requestMirror',
      ExtensionRef: 'extensionRef',
    }),
  );
export type GRPCRouteFilter = z.infer<typeof grpcRouteFilter>;

const ONCE = ['RequestHeaderModifier', 'ResponseHeaderModifier'];

export const grpcBackendRef = z
  .object({ ...backendObjectRefShape, weight: weight.optional(), filters: z.array(grpcRouteFilter).max(16).optional() })
  .superRefine(requirePortForService);
export type GRPCBackendRef = z.infer<typeof grpcBackendRef>;

export const grpcRouteRule = z
  .object({
    name: sectionName.optional(),
    matches: z.array(grpcRouteMatch).max(8).optional(),
    filters: z.array(grpcRouteFilter).max(16).optional(),
    backendRefs: z.array(grpcBackendRef).max(16).optional(),
    sessionPersistence: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((rule, ctx) => filtersNotRepeated(rule.filters, ONCE, ctx, ['filters']));
export type GRPCRouteRule = z.infer<typeof grpcRouteRule>;

export const grpcRouteSpec = z
  .object({
    parentRefs: parentRefs.optional(),
    hostnames: z.array(hostname).max(16).optional(),
    rules: z.array(grpcRouteRule).max(16).optional(),
  })
  .superRefine((spec, ctx) => checkRules(spec.rules, ctx));
export type GRPCRouteSpec = z.infer<typeof grpcRouteSpec>;
