/** ResponseHeaderModifier: set/add/remove on the headers sent back downstream. */
import type { HeaderModifierFilter } from '../../snapshot/index.ts';
import type { ResponseFilter } from './types.ts';
import { applyHeaderOps, compileHeaderOps, type HeaderOps } from './header-ops.ts';

class ResponseHeaderModifier implements ResponseFilter {
  readonly #ops: HeaderOps;
  constructor(ops: HeaderOps) { this.#ops = ops; }
  onResponse(headers: string[]): void {
    applyHeaderOps(this.#ops, headers);
  }
}

export function responseHeaderModifier(spec: HeaderModifierFilter): ResponseFilter {
  return new ResponseHeaderModifier(compileHeaderOps(spec));
}
