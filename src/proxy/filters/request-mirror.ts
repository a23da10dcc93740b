/**
 * RequestMirror: picks this request for mirroring with probability numerator/denominator. The copy is
 * sent by upstream/mirror.ts once the primary is dispatched, so it never delays or fails the primary.
 */
import type { RequestMirrorFilter } from '../../snapshot/index.ts';
import type { Random } from '../../lib/index.ts';
import type { FilterContext, MirrorTarget, RequestFilter } from './types.ts';

class RequestMirror implements RequestFilter, MirrorTarget {
  readonly backendId: string;
  readonly #ratio: number;
  readonly #random: Random;
  constructor(backendId: string, ratio: number, random: Random) {
    this.backendId = backendId;
    this.#ratio = ratio;
    this.#random = random;
  }
  onRequest(x: FilterContext): boolean {
    if (this.#ratio >= 1 || this.#random() < this.#ratio) (x.mirrors ??= []).push(this);
    return false;
  }
}

/** Returns null when nothing can be mirrored (unresolved backend or zero ratio). */
export function requestMirror(spec: RequestMirrorFilter, random: Random): RequestFilter | null {
  if (spec.backendId === null || spec.denominator <= 0 || spec.numerator <= 0) return null;
  return new RequestMirror(spec.backendId, spec.numerator / spec.denominator, random);
}
