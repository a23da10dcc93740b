/**
 * Compares two HTTP responses to the same request: status, headers (minus those that differ by
 * nature, such as Date), and body. JSON bodies are compared field by field, arrays by index, with
 * type changes and missing or extra fields reported at their path; other bodies by SHA-256.
 */
import { createHash } from 'node:crypto';
import { childIndex, childKey, pathMatcher } from './json-path.ts';

export interface ComparedResponse {
  readonly status: number;
  /** Header names in any case; a list for repeated headers (Set-Cookie). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: Buffer;
  /** The Content-Type, when not among the headers (or to override them). */
  readonly contentType?: string;
}

export interface Difference {
  /** `status`, `header.<name>`, `body` (non-JSON), or a JSON path such as `$.items[3].price`. */
  readonly field: string;
  /** `missing`: only primary has it; `extra`: only candidate has it; `type`: the JSON type changed. */
  readonly kind: 'value' | 'type' | 'missing' | 'extra';
  /** Short renderings of both sides (absent on the side that lacks the field). */
  readonly primary?: string;
  readonly candidate?: string;
}

export interface CompareOptions {
  /** Header names not compared, in addition to DEFAULT_IGNORED_HEADERS. */
  readonly ignoreHeaders?: readonly string[];
  /** JSON path patterns not compared (with everything under them); `*` matches any key or index. */
  readonly ignoreFields?: readonly string[];
  /** Stop after this many differences. Default 100. */
  readonly maxDifferences?: number;
}

export type Comparer = (primary: ComparedResponse, candidate: ComparedResponse) => Difference[];

/**
 * Headers that differ between two good responses by nature (time, ids, framing, caches). Set-Cookie
 * is compared by cookie names only, since values are per-response session data.
 */
export const DEFAULT_IGNORED_HEADERS: readonly string[] = [
  'date', 'x-request-id', 'server', 'content-length', 'via', 'etag', 'age', 'last-modified', 'expires',
  'connection', 'keep-alive', 'transfer-encoding', 'alt-svc',
];

/** Below this depth, JSON subtrees are compared as a whole (one difference at this depth). */
const MAX_DEPTH = 64;
const SHOW = 120;

function show(value: unknown): string {
  let s: string;
  try {
    s = value === undefined ? 'undefined' : JSON.stringify(value);
  } catch {
    s = '<too deep to show>';
  }
  return s.length > SHOW ? `${s.slice(0, SHOW - 3)}...` : s;
}

/** Structural equality without recursion, for subtrees below MAX_DEPTH. */
function deepEqual(a: unknown, b: unknown): boolean {
  const stack: [unknown, unknown][] = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    const tx = jsonType(x);
    if (tx !== jsonType(y) || (tx !== 'object' && tx !== 'array')) return false;
    if (tx === 'array') {
      const xa = x as unknown[];
      const ya = y as unknown[];
      if (xa.length !== ya.length) return false;
      for (let i = 0; i < xa.length; i++) stack.push([xa[i], ya[i]]);
    } else {
      const xo = x as Record<string, unknown>;
      const yo = y as Record<string, unknown>;
      const keys = Object.keys(xo);
      if (keys.length !== Object.keys(yo).length) return false;
      for (const k of keys) {
        if (!Object.hasOwn(yo, k)) return false;
        stack.push([xo[k], yo[k]]);
      }
    }
  }
  return true;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /[/+]json\b/i.test(contentType);
}

function headerText(v: string | readonly string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(', ');
}

function cookieNames(v: string | readonly string[] | undefined): string {
  const list = v === undefined ? [] : typeof v === 'string' ? [v] : v;
  return list.map((c) => c.split(';', 1)[0].split('=', 1)[0].trim()).sort().join(', ');
}

function lowerHeaders(r: ComparedResponse): Map<string, string | readonly string[]> {
  const out = new Map<string, string | readonly string[]>();
  for (const [name, value] of Object.entries(r.headers)) if (value !== undefined) out.set(name.toLowerCase(), value);
  if (r.contentType !== undefined) out.set('content-type', r.contentType);
  return out;
}

function contentTypeOf(r: ComparedResponse): string | undefined {
  if (r.contentType !== undefined) return r.contentType;
  for (const [name, value] of Object.entries(r.headers)) if (name.toLowerCase() === 'content-type') return headerText(value);
  return undefined;
}

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

function digest(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex').slice(0, 16)} (${body.length} bytes)`;
}

/** Builds a comparer with its ignore rules compiled once. */
export function createComparer(opts: CompareOptions = {}): Comparer {
  const ignoredHeaders = new Set([...DEFAULT_IGNORED_HEADERS, ...(opts.ignoreHeaders ?? [])].map((h) => h.toLowerCase()));
  const ignoredField = pathMatcher(opts.ignoreFields ?? []);
  const max = opts.maxDifferences ?? 100;

  function walk(a: unknown, b: unknown, path: string, depth: number, out: Difference[]): void {
    if (out.length >= max || ignoredField(path)) return;
    const ta = jsonType(a);
    const tb = jsonType(b);
    if (ta !== tb) {
      out.push({ field: path, kind: 'type', primary: `${ta} ${show(a)}`, candidate: `${tb} ${show(b)}` });
      return;
    }
    if (depth >= MAX_DEPTH && (ta === 'object' || ta === 'array')) {
      if (!deepEqual(a, b)) out.push({ field: path, kind: 'value', primary: show(a), candidate: show(b) });
      return;
    }
    if (ta === 'array') {
      const xa = a as unknown[];
      const xb = b as unknown[];
      const n = Math.max(xa.length, xb.length);
      for (let i = 0; i < n && out.length < max; i++) {
        const p = childIndex(path, i);
        if (i >= xb.length) {
          if (!ignoredField(p)) out.push({ field: p, kind: 'missing', primary: show(xa[i]) });
        } else if (i >= xa.length) {
          if (!ignoredField(p)) out.push({ field: p, kind: 'extra', candidate: show(xb[i]) });
        } else walk(xa[i], xb[i], p, depth + 1, out);
      }
      return;
    }
    if (ta === 'object') {
      const oa = a as Record<string, unknown>;
      const ob = b as Record<string, unknown>;
      for (const k of Object.keys(oa)) {
        if (out.length >= max) return;
        const p = childKey(path, k);
        if (!Object.hasOwn(ob, k)) {
          if (!ignoredField(p)) out.push({ field: p, kind: 'missing', primary: show(oa[k]) });
        } else walk(oa[k], ob[k], p, depth + 1, out);
      }
      for (const k of Object.keys(ob)) {
        if (out.length >= max) return;
        if (Object.hasOwn(oa, k)) continue;
        const p = childKey(path, k);
        if (!ignoredField(p)) out.push({ field: p, kind: 'extra', candidate: show(ob[k]) });
      }
      return;
    }
    if (a !== b) out.push({ field: path, kind: 'value', primary: show(a), candidate: show(b) });
  }

  function compareHeaders(primary: ComparedResponse, candidate: ComparedResponse, out: Difference[]): void {
    const ha = lowerHeaders(primary);
    const hb = lowerHeaders(candidate);
    const names = new Set([...ha.keys(), ...hb.keys()]);
    for (const name of [...names].sort()) {
      if (out.length >= max) return;
      if (ignoredHeaders.has(name)) continue;
      const field = `header.${name}`;
      const va = ha.get(name);
      const vb = hb.get(name);
      if (name === 'set-cookie') {
        const na = cookieNames(va);
        const nb = cookieNames(vb);
        if (na !== nb) out.push({ field, kind: va === undefined ? 'extra' : vb === undefined ? 'missing' : 'value', primary: na, candidate: nb });
        continue;
      }
      const ta = headerText(va);
      const tb = headerText(vb);
      if (ta === tb) continue;
      if (ta === undefined) out.push({ field, kind: 'extra', candidate: show(tb) });
      else if (tb === undefined) out.push({ field, kind: 'missing', primary: show(ta) });
      else out.push({ field, kind: 'value', primary: show(ta), candidate: show(tb) });
    }
  }

  function compareBodies(primary: ComparedResponse, candidate: ComparedResponse, out: Difference[]): void {
    if (primary.body.equals(candidate.body)) return;
    if (isJson(contentTypeOf(primary)) || isJson(contentTypeOf(candidate))) {
      const a = parseJson(primary.body);
      const b = parseJson(candidate.body);
      if (a.ok && b.ok) {
        walk(a.value, b.value, '$', 0, out);
        return;
      }
    }
    out.push({ field: 'body', kind: 'value', primary: digest(primary.body), candidate: digest(candidate.body) });
  }

  return (primary, candidate) => {
    const out: Difference[] = [];
    if (primary.status !== candidate.status) {
      out.push({ field: 'status', kind: 'value', primary: String(primary.status), candidate: String(candidate.status) });
    }
    compareHeaders(primary, candidate, out);
    compareBodies(primary, candidate, out);
    return out.length > max ? out.slice(0, max) : out;
  };
}

/** Compares two responses once; build a comparer with createComparer to reuse compiled rules. */
export function compareResponses(primary: ComparedResponse, candidate: ComparedResponse, opts: CompareOptions = {}): Difference[] {
  return createComparer(opts)(primary, candidate);
}
