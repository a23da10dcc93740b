/**
 * JSON field paths as the diff reports them (`$.items[3].price`, `$["odd key"]`) and ignore patterns
 * over them, where `*` (as `.*` or `[*]`) matches any one key or array index.
 */

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** The path of `key` under `parent`: `.key` when it reads as an identifier, else `["key"]`. */
export function childKey(parent: string, key: string): string {
  return IDENT.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

export function childIndex(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** The field a path belongs to, with array indexes folded: `$.items[3].price` → `$.items[*].price`. */
export function fieldOf(path: string): string {
  return path.includes('[') ? path.replace(/\[\d+\]/g, '[*]') : path;
}

const TOKEN = /\.([A-Za-z_$][A-Za-z0-9_$-]*)|\.\*|\[(\d+)\]|\[\*\]|\[("(?:[^"\\]|\\.)*")\]/y;
const ANY = String.raw`(?:\.[A-Za-z_$][A-Za-z0-9_$-]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])`;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Compiles one ignore pattern (`$.meta.generatedAt`, `$.items[*].id`, `$.*.etag`) to a matcher. */
export function compilePathPattern(pattern: string): RegExp {
  if (!pattern.startsWith('$')) throw new Error(`JSON path "${pattern}" must start with "$"`);
  let out = '^\\$';
  TOKEN.lastIndex = 1;
  while (TOKEN.lastIndex < pattern.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(pattern);
    if (!m) throw new Error(`JSON path "${pattern}" is not understood at "${pattern.slice(at)}"`);
    if (m[1] !== undefined) out += escapeRegex(`.${m[1]}`);
    else if (m[2] !== undefined) out += escapeRegex(`[${m[2]}]`);
    else if (m[3] !== undefined) out += escapeRegex(childKey('', JSON.parse(m[3]) as string));
    else out += ANY;
  }
  return new RegExp(`${out}$`);
}

/** A predicate over paths for a list of patterns; never matches when the list is empty. */
export function pathMatcher(patterns: readonly string[]): (path: string) => boolean {
  if (patterns.length === 0) return () => false;
  const res = patterns.map(compilePathPattern);
  return (path) => res.some((re) => re.test(path));
}
