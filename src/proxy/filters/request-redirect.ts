/**
 * RequestRedirect: answers with an absolute Location. Port rules (Gateway API): an explicit port wins;
 * otherwise a scheme change uses that scheme's well-known port, and no scheme change keeps the
 * listener's declared port; the port is omitted when it is the default for the final scheme.
 */
import type { PathModifier, RequestRedirectFilter } from '../../snapshot/index.ts';
import type { FilterContext, RequestFilter } from './types.ts';
import { applyPathModifier } from './path-modifier.ts';

const WELL_KNOWN: Record<string, number> = { http: 80, https: 443 };

class RequestRedirect implements RequestFilter {
  readonly #spec: RequestRedirectFilter;
  readonly #path: PathModifier | null;
  constructor(spec: RequestRedirectFilter) {
    this.#spec = spec;
    this.#path = spec.path ?? null;
  }
  onRequest(x: FilterContext): boolean {
    const s = this.#spec;
    const scheme = s.scheme ?? x.scheme;
    const host = s.hostname ?? x.host;
    const port = s.port ?? (s.scheme !== undefined ? WELL_KNOWN[s.scheme] : x.listenerPort);
    const path = this.#path === null ? x.path : applyPathModifier(this.#path, x.path, x.matchedPrefix);
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const portPart = port === WELL_KNOWN[scheme] ? '' : `:${port}`;
    const location = `${scheme}://${hostPart}${portPart}${path}${x.query}`;
    x.reply(s.statusCode, ['location', location], '');
    return true;
  }
}

export function requestRedirect(spec: RequestRedirectFilter): RequestFilter {
  return new RequestRedirect(spec);
}
