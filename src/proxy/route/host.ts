/**
 * Request host handling: the canonical host of a request (lower-case, port and trailing dot removed)
 * and hostname patterns (`*`, exact, `*.example.com`) as listeners and virtual hosts use them.
 */

/** Lower-cases and strips the port and a trailing dot. IPv6 literals keep their brackets. */
// HOT PATH
export function canonicalHost(value: string): string {
  let end = value.length;
  if (value.charCodeAt(0) === 91) {
    const close = value.indexOf(']');
    end = close >= 0 ? close + 1 : end;
  } else {
    const colon = value.lastIndexOf(':');
    if (colon >= 0) end = colon;
  }
  if (end > 0 && value.charCodeAt(end - 1) === 46) end--;
  const host = end === value.length ? value : value.slice(0, end);
  return host.toLowerCase();
}

/** Compiled hostname pattern; null pattern (no hostname) matches everything. */
export interface HostPattern {
  readonly any: boolean;
  readonly exact: string | null;
  /** For `*.example.com`: `.example.com`. */
  readonly suffix: string | null;
}

export function compileHostPattern(hostname: string | undefined): HostPattern {
  if (hostname === undefined || hostname === '*' || hostname === '') return { any: true, exact: null, suffix: null };
  const h = hostname.toLowerCase();
  if (h.startsWith('*.')) return { any: false, exact: null, suffix: h.slice(1) };
  return { any: false, exact: h, suffix: null };
}

// HOT PATH
export function hostMatches(p: HostPattern, host: string): boolean {
  if (p.any) return true;
  if (p.exact !== null) return p.exact === host;
  const s = p.suffix as string;
  return host.length > s.length && host.endsWith(s);
}

/**
 * First pattern in list order that matches `host`: exact names are looked up in a map, the rest are
 * scanned in order, and the lower list index wins so the declared precedence is kept exactly.
 */
export class HostIndex<T> {
  readonly #exact = new Map<string, number>();
  readonly #others: { index: number; pattern: HostPattern }[] = [];
  readonly #items: readonly T[];

  constructor(items: readonly T[], hostnameOf: (item: T) => string | undefined) {
    this.#items = items;
    items.forEach((item, index) => {
      const pattern = compileHostPattern(hostnameOf(item));
      if (pattern.exact !== null) {
        if (!this.#exact.has(pattern.exact)) this.#exact.set(pattern.exact, index);
      } else {
        this.#others.push({ index, pattern });
      }
    });
  }

  // HOT PATH
  find(host: string): T | undefined {
    const exact = this.#exact.get(host);
    const limit = exact === undefined ? Infinity : exact;
    const others = this.#others;
    for (let i = 0; i < others.length; i++) {
      const o = others[i];
      if (o.index > limit) break;
      if (hostMatches(o.pattern, host)) return this.#items[o.index];
    }
    return exact === undefined ? undefined : this.#items[exact];
  }
}
