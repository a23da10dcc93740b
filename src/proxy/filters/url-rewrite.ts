/** URLRewrite: hostname becomes the forwarded Host; path rewritten by ReplaceFullPath or ReplacePrefixMatch. */
import type { PathModifier, UrlRewriteFilter } from '../../snapshot/index.ts';
import type { FilterContext, RequestFilter } from './types.ts';
import { applyPathModifier } from './path-modifier.ts';

class UrlRewrite implements RequestFilter {
  readonly #hostname: string | null;
  readonly #path: PathModifier | null;
  constructor(spec: UrlRewriteFilter) {
    this.#hostname = spec.hostname ?? null;
    this.#path = spec.path ?? null;
  }
  onRequest(x: FilterContext): boolean {
    if (this.#hostname !== null) x.forwardHost = this.#hostname;
    if (this.#path !== null) x.path = applyPathModifier(this.#path, x.path, x.matchedPrefix);
    return false;
  }
}

export function urlRewrite(spec: UrlRewriteFilter): RequestFilter {
  return new UrlRewrite(spec);
}
