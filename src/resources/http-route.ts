/**
 * HTTPRoute (gateway.networking.k8s.io/v1, v1beta1): schema and types. Enforces the CRD's limits
 * (16 hostnames, 16 rules, 64 matches, 16 filters, 16 backendRefs) and CEL rules (path values,
 * filter combinations, ReplacePrefixMatch, timeouts), and that every regex compiles in Ferry's
 * linear-time engine.
 */
import { z } from 'zod';
import { parseDuration } from '../lib/index.ts';
import {
  backendObjectRefShape,
  duration,
  extensionRef,
  filterConfigMatchesType,
  filtersNotRepeated,
  headerModifier,
  headerName,
  hostname,
  parentRefs,
  portNumber,
  preciseHostname,
  regexString,
  requestMirror,
  requirePortForService,
  sectionName,
  weight,
} from './schema-common.ts';

/** A path Ferry writes into a request line or a Location header: visible ASCII, percent-encoded otherwise. */
const pathValue = z.string().max(1024).regex(/^[\x21-\x7e]*$/, { error: 'must be visible ASCII without spaces (percent-encode anything else)' });

const pathModifier = z
  .object({
    type: z.enum(['ReplaceFullPath', 'ReplacePrefixMatch']),
    replaceFullPath: pathValue.optional(),
    replacePrefixMatch: pathValue.optional(),
  })
  .superRefine(
    filterConfigMatchesType({ ReplaceFullPath: 'replaceFullPath', ReplacePrefixMatch: 'replacePrefixMatch' }),
  );
export type HTTPPathModifier = z.infer<typeof pathModifier>;

const requestRedirect = z.object({
  scheme: z.enum(['http', 'https']).optional(),
  hostname: preciseHostname.optional(),
  path: pathModifier.optional(),
  port: portNumber.optional(),
  statusCode: z.literal([301, 302, 303, 307, 308]).optional(),
});

const urlRewrite = z.object({ hostname: preciseHostname.optional(), path: pathModifier.optional() });

const FILTER_FIELDS = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  CORS: 'cors',
  ExternalAuth: 'externalAuth',
  ExtensionRef: 'extensionRef',
};

export const httpRouteFilter = z
  .object({
    type: z.enum(['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'CORS', 'ExternalAuth', 'ExtensionRef']),
    requestHeaderModifier: headerModifier.optional(),
    responseHeaderModifier: headerModifier.optional(),
    requestMirror: requestMirror.optional(),
    requestRedirect: requestRedirect.optional(),
    urlRewrite: urlRewrite.optional(),
    cors: z.record(z.string(), z.unknown()).optional(),
    externalAuth: z.record(z.string(), z.unknown()).optional(),
    extensionRef: extensionRef.optional(),
  })
  .superRefine(filterConfigMatchesType(FILTER_FIELDS));
export type HTTPRouteFilter = z.infer<typeof httpRouteFilter>;

const ONCE = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'CORS', 'ExternalAuth'];

const pathMatch = z
  .object({
    type: z.enum(['Exact', 'PathPrefix', 'RegularExpression']).optional(),
    value: z.string().max(1024).optional(),
  })
  .superRefine((p, ctx) => {
    const type = p.type ?? 'PathPrefix';
    const value = p.value ?? '/';
    if (type === 'RegularExpression') {
      const r = regexString.safeParse(value);
      if (!r.success) ctx.addIssue({ code: 'custom', path: ['value'], message: r.error.issues[0].message });
      return;
    }
    const problem = !value.startsWith('/')
      ? 'must be an absolute path starting with "/"'
      : /\/\/|\/\.\/|\/\.\.\/|%2f|%2F|#/.test(value)
        ? 'must not contain "//", "/./", "/../", "%2f", "%2F" or "#"'
        : /\/\.\.?$/.test(value)
          ? 'must not end with "/." or "/.."'
          : undefined;
    if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
  });

const valueMatchType = z.enum(['Exact', 'RegularExpression']).optional();

function regexValues(list: readonly { type?: string; value: string }[] | undefined, field: string, ctx: z.RefinementCtx): void {
  (list ?? []).forEach((m, i) => {
    if (m.type !== 'RegularExpression') return;
    const r = regexString.safeParse(m.value);
    if (!r.success) ctx.addIssue({ code: 'custom', path: [field, i, 'value'], message: r.error.issues[0].message });
  });
}

function uniqueMatchNames(list: readonly { name: string }[] | undefined, field: string, fold: boolean, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  (list ?? []).forEach((m, i) => {
    const key = fold ? m.name.toLowerCase() : m.name;
    if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [field, i, 'name'], message: `"${m.name}" is matched twice; only one match per name is allowed` });
    seen.add(key);
  });
}

export const httpRouteMatch = z
  .object({
    path: pathMatch.optional(),
    headers: z.array(z.object({ type: valueMatchType, name: headerName, value: z.string().max(4096) })).max(16).optional(),
    queryParams: z
      .array(z.object({ type: valueMatchType, name: z.string().min(1).max(256), value: z.string().max(1024) }))
      .max(16)
      .optional(),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']).optional(),
  })
  .superRefine((m, ctx) => {
    uniqueMatchNames(m.headers, 'headers', true, ctx);
    uniqueMatchNames(m.queryParams, 'queryParams', false, ctx);
    regexValues(m.headers, 'headers', ctx);
    regexValues(m.queryParams, 'queryParams', ctx);
  });
export type HTTPRouteMatch = z.infer<typeof httpRouteMatch>;

export const httpBackendRef = z
  .object({ ...backendObjectRefShape, weight: weight.optional(), filters: z.array(httpRouteFilter).max(16).optional() })
  .superRefine(requirePortForService);
export type HTTPBackendRef = z.infer<typeof httpBackendRef>;

const timeouts = z.object({ request: duration.optional(), backendRequest: duration.optional() });

const retry = z.object({
  codes: z.array(z.int().min(400).max(599)).optional(),
  attempts: z.int().min(0).optional(),
  backoff: duration.optional(),
});

function usesPrefixReplace(f: HTTPRouteFilter): boolean {
  return (
    f.requestRedirect?.path?.type === 'ReplacePrefixMatch' || f.urlRewrite?.path?.type === 'ReplacePrefixMatch'
  );
}

export const httpRouteRule = z
  .object({
    name: sectionName.optional(),
    matches: z.array(httpRouteMatch).max(64).optional(),
    filters: z.array(httpRouteFilter).max(16).optional(),
    backendRefs: z.array(httpBackendRef).max(16).optional(),
    timeouts: timeouts.optional(),
    retry: retry.optional(),
    sessionPersistence: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((rule, ctx) => {
    const filters = rule.filters ?? [];
    filtersNotRepeated(filters, ONCE, ctx, ['filters']);
    const redirect = filters.findIndex((f) => f.type === 'RequestRedirect');
    const rewrite = filters.findIndex((f) => f.type === 'URLRewrite');
    if (redirect >= 0 && rewrite >= 0) {
      ctx.addIssue({ code: 'custom', path: ['filters', rewrite], message: 'RequestRedirect and URLRewrite cannot be used in the same rule' });
    }
    if (redirect >= 0 && (rule.backendRefs?.length ?? 0) > 0) {
      ctx.addIssue({ code: 'custom', path: ['filters', redirect], message: 'RequestRedirect cannot be combined with backendRefs' });
    }
    const prefix = filters.findIndex(usesPrefixReplace);
    if (prefix >= 0) {
      const matches = rule.matches ?? [{ path: { type: 'PathPrefix' as const, value: '/' } }];
      if (matches.length !== 1 || (matches[0].path?.type ?? 'PathPrefix') !== 'PathPrefix' || !matches[0].path) {
        ctx.addIssue({ code: 'custom', path: ['filters', prefix], message: 'ReplacePrefixMatch requires exactly one match, with a PathPrefix path' });
      }
    }
    const t = rule.timeouts;
    if (t?.request !== undefined && t.backendRequest !== undefined) {
      const request = parseDuration(t.request);
      if (request > 0 && parseDuration(t.backendRequest) > request) {
        ctx.addIssue({ code: 'custom', path: ['timeouts', 'backendRequest'], message: `backendRequest timeout (${t.backendRequest}) cannot be longer than request timeout (${t.request})` });
      }
    }
  });
export type HTTPRouteRule = z.infer<typeof httpRouteRule>;

/** Shared by HTTPRoute and GRPCRoute: at most 128 matches in total and unique rule names. */
export function checkRules(rules: readonly { name?: string; matches?: readonly unknown[] }[] | undefined, ctx: z.RefinementCtx): void {
  const total = (rules ?? []).reduce((n, r) => n + (r.matches?.length ?? 0), 0);
  if (total > 128) {
    ctx.addIssue({ code: 'custom', path: ['rules'], message: `a route may have at most 128 matches across all rules (has ${total})` });
  }
  const names = new Set<string>();
  (rules ?? []).forEach((r, i) => {
    if (r.name === undefined) return;
    if (names.has(r.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `rule name "${r.name}" must be unique within the route` });
    names.add(r.name);
  });
}

export const httpRouteSpec = z
  .object({
    parentRefs: parentRefs.optional(),
    hostnames: z.array(hostname).max(16).optional(),
    rules: z.array(httpRouteRule).max(16).optional(),
  })
  .superRefine((spec, ctx) => checkRules(spec.rules, ctx));
export type HTTPRouteSpec = z.infer<typeof httpRouteSpec>;
