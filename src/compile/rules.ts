/**
 * Route rules → RuleSpec: filters (header modifiers, redirect, rewrite, mirrors), weighted
 * backendRefs resolved to Service ports or Ferry Backends (ReferenceGrant for cross-namespace), each
 * with its attached TrafficPolicy, timeouts and retry.
 * An unresolvable backendRef stays in the rule with `backendId: null` so its share answers 500.
 *
 * Ferry's choices where the spec leaves it to implementations: `retry.attempts` defaults to 1,
 * `retry.backoff` to 25ms, `retry.codes` to none (connection errors only); a filter Ferry does not
 * implement (CORS, ExternalAuth, ExtensionRef) turns its rule into a 500 rather than being skipped.
 */
import type { ConfigError } from '../lib/index.ts';
import { parseDuration } from '../lib/index.ts';
import {
  type BackendObjectRef,
  type GRPCRouteFilter,
  type HeaderModifier,
  type HTTPPathModifier,
  type HTTPRouteFilter,
  type HTTPRouteRule,
  type RouteResource,
} from '../resources/index.ts';
import type { BackendSpec, FilterSpec, HeaderModifierFilter, PathModifier, RetrySpec, RuleSpec, Timeouts, WeightedBackend } from '../snapshot/index.ts';
import { routeId } from './attach.ts';
import { resolveBackendRef, type BackendContext } from './backend-refs.ts';
import { resourceError, type RefProblem } from './diagnostics.ts';
import { compileGrpcMatch, compileHttpMatch, type CompiledMatch } from './matches.ts';
import { GATEWAY_GROUP, type ResourceIndex } from './model.ts';

export const DEFAULT_RETRY_ATTEMPTS = 1;
export const DEFAULT_RETRY_BACKOFF_MS = 25;
export type { BackendContext } from './backend-refs.ts';

export interface CompiledRule {
  readonly spec: RuleSpec;
  /** Backends the rule refers to (backendRefs and mirrors) that resolved. */
  readonly backends: readonly BackendSpec[];
  readonly matches: readonly CompiledMatch[];
}

export interface CompiledRoute {
  readonly rules: readonly CompiledRule[];
  /** Unresolved references, for the route's ResolvedRefs condition. */
  readonly refProblems: readonly RefProblem[];
  /** Unsupported features that made part of the route answer 500 (PartiallyInvalid). */
  readonly unsupported: readonly string[];
  readonly errors: ConfigError[];
}

type AnyFilter = HTTPRouteFilter | GRPCRouteFilter;

interface RuleInput {
  readonly name?: string;
  readonly filters?: readonly AnyFilter[];
  readonly backendRefs?: readonly (BackendObjectRef & { weight?: number; filters?: readonly AnyFilter[] })[];
  readonly timeouts?: HTTPRouteRule['timeouts'];
  readonly retry?: HTTPRouteRule['retry'];
}

function headerFilter(type: HeaderModifierFilter['type'], m: HeaderModifier | undefined): HeaderModifierFilter {
  const lower = (h: { name: string; value: string }) => ({ name: h.name.toLowerCase(), value: h.value });
  return { type, set: (m?.set ?? []).map(lower), add: (m?.add ?? []).map(lower), remove: (m?.remove ?? []).map((n) => n.toLowerCase()) };
}

function pathModifier(p: HTTPPathModifier | undefined): { path?: PathModifier } {
  if (!p) return {};
  return p.type === 'ReplaceFullPath'
    ? { path: { type: 'ReplaceFullPath', value: p.replaceFullPath ?? '/' } }
    : { path: { type: 'ReplacePrefixMatch', value: p.replacePrefixMatch ?? '/' } };
}

class RouteCompiler {
  readonly refProblems: RefProblem[] = [];
  readonly unsupported: string[] = [];
  readonly errors: ConfigError[] = [];
  private readonly index: ResourceIndex;
  private readonly route: RouteResource;
  private readonly ctx: BackendContext;

  constructor(index: ResourceIndex, route: RouteResource, ctx: BackendContext) {
    this.index = index;
    this.route = route;
    this.ctx = ctx;
  }

  /** Resolves a Service or Backend reference, or records why it cannot be used. */
  resolve(ref: BackendObjectRef, field: string): { backend?: BackendSpec; problem?: RefProblem } {
    const route = this.route;
    const who = {
      routeKind: route.kind,
      namespace: route.metadata.namespace,
      from: [{ group: GATEWAY_GROUP, kind: route.kind, namespace: route.metadata.namespace }],
      fromLabel: `${route.kind}s`,
    };
    const r = resolveBackendRef(this.index, this.ctx, who, ref, field);
    for (const w of r.warnings) this.errors.push(resourceError(route, w.field, w.message, 'warning'));
    if (r.problem) {
      this.refProblems.push(r.problem);
      this.errors.push(resourceError(route, r.problem.field, r.problem.message));
      return { problem: r.problem };
    }
    return { backend: r.backend };
  }

  /** Compiles one filter; undefined when unsupported (recorded). */
  filter(f: AnyFilter, field: string, backends: BackendSpec[]): FilterSpec | undefined {
    switch (f.type) {
      case 'RequestHeaderModifier':
        return headerFilter('RequestHeaderModifier', f.requestHeaderModifier);
      case 'ResponseHeaderModifier':
        return headerFilter('ResponseHeaderModifier', f.responseHeaderModifier);
      case 'RequestRedirect': {
        const r = (f as HTTPRouteFilter).requestRedirect;
        return {
          type: 'RequestRedirect',
          ...(r?.scheme ? { scheme: r.scheme } : {}),
          ...(r?.hostname ? { hostname: r.hostname } : {}),
          ...(r?.port !== undefined ? { port: r.port } : {}),
          ...pathModifier(r?.path),
          statusCode: r?.statusCode ?? 302,
        };
      }
      case 'URLRewrite': {
        const r = (f as HTTPRouteFilter).urlRewrite;
        return { type: 'URLRewrite', ...(r?.hostname ? { hostname: r.hostname } : {}), ...pathModifier(r?.path) };
      }
      case 'RequestMirror': {
        const m = f.requestMirror;
        if (!m) return undefined;
        const { backend } = this.resolve(m.backendRef, `${field}.requestMirror.backendRef`);
        if (backend) backends.push(backend);
        const [numerator, denominator] =
          m.percent !== undefined ? [m.percent, 100] : m.fraction ? [m.fraction.numerator, m.fraction.denominator ?? 100] : [1, 1];
        return { type: 'RequestMirror', backendId: backend?.id ?? null, numerator, denominator, ...mirrorOptions(this.route, this.errors) };
      }
      default: {
        const message = `filter type ${f.type} is not supported by Ferry; requests that match this rule are answered with 500`;
        this.unsupported.push(message);
        this.errors.push(resourceError(this.route, `${field}.type`, message));
        return undefined;
      }
    }
  }

  rule(rule: RuleInput, ruleIndex: number, matches: readonly CompiledMatch[]): CompiledRule {
    const at = `spec.rules[${ruleIndex}]`;
    const backends: BackendSpec[] = [];
    const filters: FilterSpec[] = [];
    let broken = false;
    (rule.filters ?? []).forEach((f, j) => {
      const spec = this.filter(f, `${at}.filters[${j}]`, backends);
      if (spec) filters.push(spec);
      else if (f.type !== 'RequestMirror') broken = true;
    });
    const weighted: WeightedBackend[] = (rule.backendRefs ?? []).map((ref, j) => {
      const field = `${at}.backendRefs[${j}]`;
      const own: FilterSpec[] = [];
      let invalidReason: string | undefined;
      (ref.filters ?? []).forEach((f, k) => {
        if (f.type === 'RequestHeaderModifier' || f.type === 'ResponseHeaderModifier') {
          own.push(headerFilter(f.type, f.type === 'RequestHeaderModifier' ? f.requestHeaderModifier : f.responseHeaderModifier));
          return;
        }
        invalidReason = `backendRef filter ${f.type} is not supported by Ferry`;
        this.unsupported.push(invalidReason);
        this.errors.push(resourceError(this.route, `${field}.filters[${k}].type`, `${invalidReason}; this backend's share is answered with 500`));
      });
      const { backend, problem } = this.resolve(ref, field);
      const reason = problem?.message ?? invalidReason;
      if (backend && reason === undefined) backends.push(backend);
      return {
        backendId: reason === undefined && backend ? backend.id : null,
        weight: ref.weight ?? 1,
        filters: own,
        ...(reason !== undefined ? { invalidReason: reason } : {}),
      };
    });
    const id = `${routeId(this.route)}/rule/${ruleIndex}`;
    const timeouts = this.timeouts(rule);
    const retry = this.retry(rule);
    const spec: RuleSpec = {
      id,
      routeId: routeId(this.route),
      kind: this.route.kind,
      ruleIndex,
      ...(rule.name !== undefined ? { name: rule.name } : {}),
      filters: broken ? [] : filters,
      backends: broken ? [{ backendId: null, weight: 1, filters: [], invalidReason: 'the rule uses a filter Ferry does not support' }] : weighted,
      ...(timeouts ? { timeouts } : {}),
      ...(retry ? { retry } : {}),
    };
    return { spec, backends, matches };
  }

  timeouts(rule: RuleInput): Timeouts | undefined {
    const ms = (d: string | undefined): number | undefined => {
      const v = d === undefined ? 0 : parseDuration(d);
      return v > 0 ? v : undefined;
    };
    const requestMs = ms(rule.timeouts?.request);
    const backendRequestMs = ms(rule.timeouts?.backendRequest);
    if (requestMs === undefined && backendRequestMs === undefined) return undefined;
    return { ...(requestMs !== undefined ? { requestMs } : {}), ...(backendRequestMs !== undefined ? { backendRequestMs } : {}) };
  }

  retry(rule: RuleInput): RetrySpec | undefined {
    const r = rule.retry;
    if (!r) return undefined;
    const attempts = r.attempts ?? DEFAULT_RETRY_ATTEMPTS;
    if (attempts === 0) return undefined;
    return {
      attempts,
      codes: [...new Set(r.codes ?? [])],
      backoffMs: r.backoff === undefined ? DEFAULT_RETRY_BACKOFF_MS : parseDuration(r.backoff),
    };
  }
}

/** Compiles every rule of a route (whether or not it attached: its references are reported either way). */
export function compileRoute(index: ResourceIndex, route: RouteResource, ctx: BackendContext): CompiledRoute {
  const c = new RouteCompiler(index, route, ctx);
  const rules: CompiledRule[] = [];
  if (route.kind === 'HTTPRoute') {
    (route.spec.rules ?? [{}]).forEach((rule, i) => {
      const matches = rule.matches?.length ? rule.matches : [undefined];
      rules.push(c.rule(rule, i, matches.map((m, j) => compileHttpMatch(route, i, j, m))));
    });
  } else {
    (route.spec.rules ?? [{}]).forEach((rule, i) => {
      const matches = rule.matches?.length ? rule.matches : [undefined];
      rules.push(c.rule(rule, i, matches.map((m, j) => compileGrpcMatch(route, i, j, m))));
    });
  }
  return { rules, refProblems: c.refProblems, unsupported: c.unsupported, errors: c.errors };
}

/** Route annotations that tune its RequestMirror filters (Gateway API has no fields for these). */
export const MIRROR_UNSAFE_ANNOTATION = 'ferry.dev/mirror-unsafe-methods';
export const MIRROR_MAX_BODY_ANNOTATION = 'ferry.dev/mirror-max-body-bytes';
export const MIRROR_HOST_ANNOTATION = 'ferry.dev/mirror-host';
export const DEFAULT_MIRROR_MAX_BODY_BYTES = 1024 * 1024;

function mirrorOptions(route: RouteResource, errors: ConfigError[]) {
  const a = route.metadata.annotations ?? {};
  const unsafe = a[MIRROR_UNSAFE_ANNOTATION];
  if (unsafe !== undefined && unsafe !== 'true' && unsafe !== 'false') {
    errors.push(resourceError(route, `metadata.annotations.${MIRROR_UNSAFE_ANNOTATION}`, 'must be "true" or "false"', 'warning'));
  }
  let maxBodyBytes = DEFAULT_MIRROR_MAX_BODY_BYTES;
  const max = a[MIRROR_MAX_BODY_ANNOTATION];
  if (max !== undefined) {
    if (/^\d{1,10}$/.test(max)) maxBodyBytes = Number(max);
    else errors.push(resourceError(route, `metadata.annotations.${MIRROR_MAX_BODY_ANNOTATION}`, `must be a number of bytes; using ${DEFAULT_MIRROR_MAX_BODY_BYTES}`, 'warning'));
  }
  const host = a[MIRROR_HOST_ANNOTATION] ? a[MIRROR_HOST_ANNOTATION].toLowerCase() : null;
  return { maxBodyBytes, allowUnsafeMethods: unsafe === 'true', host, compare: null };
}
