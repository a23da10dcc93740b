/**
 * Gateway API hostname semantics: wildcard matching (`*.example.com` matches `foo.example.com` and
 * `foo.bar.example.com`, not `example.com`), listener/route hostname intersection, and specificity
 * order (exact before wildcard, longer before shorter, `*` last).
 */

/** `*` stands for "any hostname" (no hostname on either side). */
export const ANY_HOST = '*';

const isWildcard = (h: string): boolean => h.startsWith('*.');

/**
 * True when every hostname matched by `specific` is also matched by `general`: equal, `*`, or a
 * wildcard whose suffix the other (exact or wildcard) falls under.
 */
export function hostCovers(general: string, specific: string): boolean {
  if (general === specific || general === ANY_HOST) return true;
  if (!isWildcard(general) || specific === ANY_HOST) return false;
  const suffix = general.slice(1); // ".example.com"
  const rest = isWildcard(specific) ? specific.slice(1) : specific;
  return rest.endsWith(suffix) && rest.length > suffix.length;
}

/** True when some request hostname could match both. */
export function hostsIntersect(a: string, b: string): boolean {
  return hostCovers(a, b) || hostCovers(b, a);
}

/**
 * Effective hostnames of a route on a listener: the more specific side of each intersecting pair.
 * No listener hostname → the route's hostnames; no route hostnames → the listener's; neither → `*`.
 * An empty result means the route does not attach to this listener.
 */
export function intersectHostnames(listener: string | undefined, route: readonly string[]): string[] {
  const l = listener?.toLowerCase();
  const r = route.map((h) => h.toLowerCase());
  if (r.length === 0) return [l ?? ANY_HOST];
  if (l === undefined) return dedupe(r);
  const out: string[] = [];
  for (const h of r) {
    if (hostCovers(l, h)) out.push(h);
    else if (hostCovers(h, l)) out.push(l);
  }
  return dedupe(out);
}

function dedupe(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/**
 * Orders hostnames most specific first: exact names (longer first), then wildcards (longer first),
 * then `*` / undefined; alphabetical among equals so the order is total.
 */
export function compareHostSpecificity(a: string | undefined, b: string | undefined): number {
  const rank = (h: string | undefined): number => (h === undefined || h === ANY_HOST ? 2 : isWildcard(h) ? 1 : 0);
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (a === undefined || b === undefined) return 0;
  if (a.length !== b.length) return b.length - a.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
