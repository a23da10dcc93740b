/**
 * Route matches → MatchSpec, and the precedence order between them.
 *
 * HTTPRoute (Gateway API, with Ferry's placement of regex): Exact path > RegularExpression path >
 * PathPrefix; longer path value first; method match present; more header matches; more query
 * matches; then the oldest route, `namespace/name`, rule index, match index (a Rollout's header-gate
 * copy of a match, which has more header matches anyway, before the original).
 *
 * GRPCRoute: more characters of service, then of method, then more header matches; then the same
 * route/rule/match tie-breaks. gRPC method matches become path conditions on `/service/method`.
 */
import type { GRPCRouteMatch, HTTPRouteMatch, RouteResource } from '../resources/index.ts';
import type { MatchSpec, PathMatch, ValueMatch } from '../snapshot/index.ts';
import { compareAge } from './model.ts';

/** What precedence needs to know about one compiled match. */
export interface MatchKey {
  readonly kind: 'HTTPRoute' | 'GRPCRoute';
  /** HTTPRoute: 0 Exact, 1 RegularExpression, 2 PathPrefix. */
  readonly pathRank: number;
  /** HTTPRoute: path value length; GRPCRoute: service length. */
  readonly primaryLength: number;
  /** HTTPRoute: 1 when a method is matched; GRPCRoute: method length. */
  readonly secondary: number;
  readonly headers: number;
  readonly queryParams: number;
  readonly route: RouteResource;
  readonly ruleIndex: number;
  readonly matchIndex: number;
  /** A Rollout header-gate copy of this match: on a full tie it goes before the original. */
  readonly gate?: boolean;
}

export interface CompiledMatch {
  readonly match: MatchSpec;
  readonly key: MatchKey;
}

const PATH_RANK = { Exact: 0, RegularExpression: 1, PathPrefix: 2 } as const;

/** PathPrefix values are compared element-wise: drop a trailing `/` except for the root. */
export function normalizePrefix(value: string): string {
  return value.length > 1 && value.endsWith('/') ? value.replace(/\/+$/, '') || '/' : value;
}

function values(list: readonly { type?: 'Exact' | 'RegularExpression'; name: string; value: string }[] | undefined, lower: boolean): ValueMatch[] {
  return (list ?? []).map((v) => ({ name: lower ? v.name.toLowerCase() : v.name, type: v.type ?? 'Exact', value: v.value }));
}

export function compileHttpMatch(route: RouteResource, ruleIndex: number, matchIndex: number, m: HTTPRouteMatch | undefined): CompiledMatch {
  const type = m?.path?.type ?? 'PathPrefix';
  const raw = m?.path?.value ?? '/';
  const path: PathMatch = { type, value: type === 'PathPrefix' ? normalizePrefix(raw) : raw };
  const headers = values(m?.headers, true);
  const queryParams = values(m?.queryParams, false);
  const match: MatchSpec = { path, ...(m?.method ? { method: m.method } : {}), headers, queryParams };
  return {
    match,
    key: {
      kind: 'HTTPRoute',
      pathRank: PATH_RANK[type],
      primaryLength: path.value.length,
      secondary: m?.method ? 1 : 0,
      headers: headers.length,
      queryParams: queryParams.length,
      route,
      ruleIndex,
      matchIndex,
    },
  };
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ANY_SEGMENT = '[^/]+';

/** The path condition for a gRPC method match (`/service/method`). */
export function grpcPath(method: GRPCRouteMatch['method']): PathMatch {
  if (!method) return { type: 'PathPrefix', value: '/' };
  const service = method.service?.replace(/^\./, '') || undefined;
  const name = method.method || undefined;
  if ((method.type ?? 'Exact') === 'Exact') {
    if (service && name) return { type: 'Exact', value: `/${service}/${name}` };
    return {
      type: 'RegularExpression',
      value: `/${service ? escapeRegex(service) : ANY_SEGMENT}/${name ? escapeRegex(name) : ANY_SEGMENT}`,
    };
  }
  return {
    type: 'RegularExpression',
    value: `/${service ? `(?:${service})` : ANY_SEGMENT}/${name ? `(?:${name})` : ANY_SEGMENT}`,
  };
}

export function compileGrpcMatch(route: RouteResource, ruleIndex: number, matchIndex: number, m: GRPCRouteMatch | undefined): CompiledMatch {
  const headers = values(m?.headers, true);
  return {
    match: { path: grpcPath(m?.method), headers, queryParams: [] },
    key: {
      kind: 'GRPCRoute',
      pathRank: 0,
      primaryLength: m?.method?.service?.length ?? 0,
      secondary: m?.method?.method?.length ?? 0,
      headers: headers.length,
      queryParams: 0,
      route,
      ruleIndex,
      matchIndex,
    },
  };
}

/** Precedence between two matches of the same hostname group: negative when `a` goes first. */
export function compareMatches(a: MatchKey, b: MatchKey): number {
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  return (
    a.pathRank - b.pathRank ||
    b.primaryLength - a.primaryLength ||
    b.secondary - a.secondary ||
    b.headers - a.headers ||
    b.queryParams - a.queryParams ||
    compareAge(a.route, b.route) ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex ||
    (a.gate ? 0 : 1) - (b.gate ? 0 : 1)
  );
}
