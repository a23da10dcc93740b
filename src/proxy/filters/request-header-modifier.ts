/** RequestHeaderModifier: set/add/remove on the headers forwarded upstream (add joins with a comma). */
import type { HeaderModifierFilter } from '../../snapshot/index.ts';
import type { FilterContext, RequestFilter } from './types.ts';
import { applyHeaderOps, compileHeaderOps, type HeaderOps } from './header-ops.ts';

class RequestHeaderModifier implements RequestFilter {
  readonly #ops: HeaderOps;
  constructor(ops: HeaderOps) { this.#ops = ops; }
  onRequest(x: FilterContext): boolean {
    applyHeaderOps(this.#ops, x.headers);
    return false;
  }
}

export function requestHeaderModifier(spec: HeaderModifierFilter): RequestFilter {
  return new RequestHeaderModifier(compileHeaderOps(spec));
}
