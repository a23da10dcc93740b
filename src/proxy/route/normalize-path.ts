/**
 * The one request-target normaliser every listener runs before routing; the path it returns is also
 * the path forwarded upstream, so what Ferry matched is what the backend sees. Rules (RFC 3986 §6.2.2,
 * §5.2.4, plus the checks a gateway must add to what Node's parser accepts): origin-form or absolute-form only,
 * fragment stripped, percent-encoded unreserved characters decoded, remaining escapes upper-cased,
 * invalid escapes, NUL and control characters rejected, encoded slash/backslash per policy, duplicate
 * slashes merged, dot segments removed. norm(norm(p)) === norm(p).
 */

export type EncodedSlashes = 'reject' | 'keep' | 'decode';

export interface PathPolicy {
  readonly encodedSlashes: EncodedSlashes;
  readonly mergeSlashes: boolean;
}

export interface NormalizedTarget {
  /** Normalised path, always starting with `/`. */
  path: string;
  /** Query including the leading `?`, or the empty string. */
  query: string;
  /** Authority from an absolute-form target, lower-cased, or null. */
  authority: string | null;
}

const HEX = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function isUnreserved(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126;
}

/** RFC 3986 remove_dot_segments on a path starting with `/`. */
export function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  for (let i = 1; i <= last; i++) {
    const seg = segments[i];
    if (seg === '.' || seg === '..') {
      if (seg === '..' && out.length > 0) out.pop();
      if (i === last) out.push('');
    } else {
      out.push(seg);
    }
  }
  return '/' + out.join('/');
}

function mergeSlashRuns(path: string): string {
  let out = '';
  let prevSlash = false;
  for (let i = 0; i < path.length; i++) {
    const ch = path[i];
    if (ch === '/') {
      if (prevSlash) continue;
      prevSlash = true;
    } else {
      prevSlash = false;
    }
    out += ch;
  }
  return out;
}

/**
 * Normalises the path part only (no query, no fragment). Returns null when the path must be
 * rejected with 400.
 */
// HOT PATH: runs once per request; the common clean path returns without allocating.
export function normalizePath(raw: string, policy: PathPolicy): string | null {
  if (raw.length === 0) return '/';
  if (raw.charCodeAt(0) !== 47) return null;
  // Fast scan: does this path need any work at all?
  let clean = true;
  let prev = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 32 || c === 127 || c === 37 || c === 92 || c > 126) { clean = false; break; }
    if (c === 47 && prev === 47 && policy.mergeSlashes) { clean = false; break; }
    if (c === 46 && prev === 47) { clean = false; break; }
    prev = c;
  }
  if (clean) return raw;

  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 37) {
      if (i + 2 >= raw.length) return null;
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return null;
      const v = hi * 16 + lo;
      i += 2;
      if (v < 32 || v === 127) return null;
      if (isUnreserved(v)) { out += String.fromCharCode(v); continue; }
      if (v === 47 || v === 92) {
        if (policy.encodedSlashes === 'reject') return null;
        if (policy.encodedSlashes === 'decode') { out += '/'; continue; }
      }
      out += '%' + HEX[hi] + HEX[lo];
    } else if (c === 92) {
      // A raw backslash is what `%5C` decodes to; apply the same policy so both spellings agree.
      if (policy.encodedSlashes === 'reject') return null;
      out += policy.encodedSlashes === 'decode' ? '/' : '%5C';
    } else if (c <= 32 || c === 127) {
      return null;
    } else if (c > 126) {
      if (c > 255) return null;
      out += '%' + HEX[c >> 4] + HEX[c & 15];
    } else {
      out += raw[i];
    }
  }
  if (policy.mergeSlashes) out = mergeSlashRuns(out);
  return removeDotSegments(out);
}

/**
 * Splits and normalises a request target. Returns null for anything that must be answered 400:
 * asterisk-form, authority-form, relative paths, bad escapes, control characters.
 */
// HOT PATH
export function normalizeTarget(target: string, policy: PathPolicy): NormalizedTarget | null {
  let authority: string | null = null;
  let rest = target;
  if (target.charCodeAt(0) !== 47) {
    const lower = target.slice(0, 8).toLowerCase();
    let start: number;
    if (lower.startsWith('http://')) start = 7;
    else if (lower.startsWith('https://')) start = 8;
    else return null;
    let end = start;
    while (end < target.length) {
      const c = target.charCodeAt(end);
      if (c === 47 || c === 63 || c === 35) break;
      end++;
    }
    authority = target.slice(start, end).toLowerCase();
    if (authority.length === 0 || authority.includes('@')) return null;
    rest = end < target.length && target.charCodeAt(end) === 47 ? target.slice(end) : '/' + target.slice(end);
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  let query = '';
  if (q >= 0) {
    query = rest.slice(q);
    rest = rest.slice(0, q);
    for (let i = 1; i < query.length; i++) {
      const c = query.charCodeAt(i);
      if (c <= 32 || c === 127) return null;
    }
  }
  const path = normalizePath(rest, policy);
  if (path === null) return null;
  return { path, query, authority };
}
