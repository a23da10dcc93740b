/**
 * The filter table: one entry per FilterSpec type, each a factory from its own file. Rule filters run
 * first, then the chosen backendRef's filters, each list in declared order.
 */
import type { FilterSpec } from '../../snapshot/index.ts';
import type { FilterDeps, RequestFilter, ResponseFilter } from './types.ts';
import { requestHeaderModifier } from './request-header-modifier.ts';
import { responseHeaderModifier } from './response-header-modifier.ts';
import { requestRedirect } from './request-redirect.ts';
import { urlRewrite } from './url-rewrite.ts';
import { requestMirror } from './request-mirror.ts';

export type { FilterContext, MirrorTarget, RequestFilter, ResponseFilter, FilterDeps } from './types.ts';
export { removeHeader } from './header-ops.ts';

export interface FilterChain {
  readonly request: readonly RequestFilter[];
  readonly response: readonly ResponseFilter[];
}

type Table = {
  [K in FilterSpec['type']]: (spec: Extract<FilterSpec, { type: K }>, deps: FilterDeps) => { request?: RequestFilter | null; response?: ResponseFilter };
};

const TABLE: Table = {
  RequestHeaderModifier: (spec) => ({ request: requestHeaderModifier(spec) }),
  ResponseHeaderModifier: (spec) => ({ response: responseHeaderModifier(spec) }),
  RequestRedirect: (spec) => ({ request: requestRedirect(spec) }),
  URLRewrite: (spec) => ({ request: urlRewrite(spec) }),
  RequestMirror: (spec, deps) => ({ request: requestMirror(spec, deps.random) }),
};

export const EMPTY_CHAIN: FilterChain = { request: [], response: [] };

export function compileFilters(specs: readonly FilterSpec[], deps: FilterDeps): FilterChain {
  if (specs.length === 0) return EMPTY_CHAIN;
  const request: RequestFilter[] = [];
  const response: ResponseFilter[] = [];
  for (const spec of specs) {
    const factory = TABLE[spec.type] as (s: FilterSpec, d: FilterDeps) => { request?: RequestFilter | null; response?: ResponseFilter };
    const built = factory(spec, deps);
    if (built.request) request.push(built.request);
    if (built.response) response.push(built.response);
  }
  return { request, response };
}
