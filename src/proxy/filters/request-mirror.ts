/**
 * RequestMirror: picks this request for mirroring with probability numerator/denominator. The copy is
 * sent by upstream/mirror.ts once the primary is dispatched, so it never delays or fails the primary;
 * that is also where the method rule, the body limit, the Host override and response comparison
 * apply (they need the request's body and the primary's backend).
 */
import type { MirrorCompare, RequestMirrorFilter } from '../../snapshot/index.ts';
import type { Random } from '../../lib/index.ts';
import type { FilterContext, MirrorTarget, RequestFilter } from './types.ts';

/** Used when a snapshot predates the limit. */
export const DEFAULT_MIRROR_MAX_BODY_BYTES = 1 << 20;

class RequestMirror implements RequestFilter, MirrorTarget {
  readonly backendId: string;
  readonly maxBodyBytes: number;
  readonly allowUnsafeMethods: boolean;
  readonly host: string | null;
  readonly compare: MirrorCompare | null;
  readonly #ratio: number;
  readonly #random: Random;
  constructor(spec: RequestMirrorFilter & { backendId: string }, ratio: number, random: Random) {
    this.backendId = spec.backendId;
    this.maxBodyBytes = spec.maxBodyBytes >= 0 ? spec.maxBodyBytes : DEFAULT_MIRROR_MAX_BODY_BYTES;
    this.allowUnsafeMethods = spec.allowUnsafeMethods === true;
    this.host = spec.host ?? null;
    this.compare = spec.compare ?? null;
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
  return new RequestMirror(spec as RequestMirrorFilter & { backendId: string }, spec.numerator / spec.denominator, random);
}
