/**
 * Route matching inside one virtual host. Entries keep the snapshot's precedence order; Exact paths are
 * indexed in a Map and PathPrefix values by path-segment boundary, and the candidate with the lowest
 * list index that fully matches wins, so 10,000 routes cost a few map lookups instead of a scan.
 */
import type { RouteEntry, ValueMatch } from '../../snapshot/index.ts';
import { compileFullMatch } from '../../lib/index.ts';

/** What a matcher reads from a request. */
export interface MatchInput {
  readonly path: string;
  readonly method: string;
  /** Flat `[name, value, ...]` with lower-case names. */
  readonly headers: string[];
  readonly query: string;
}

interface ValueMatcher {
  readonly name: string;
  readonly exact: string | null;
  readonly regex: RegExp | null;
}

export interface CompiledRoute<R> {
  readonly index: number;
  readonly entry: RouteEntry;
  readonly rule: R;
  /** The PathPrefix value, for ReplacePrefixMatch rewrites; null for other path types. */
  readonly prefix: string | null;
  readonly pathType: 'Exact' | 'PathPrefix' | 'RegularExpression' | null;
  readonly pathValue: string;
  readonly pathRegex: RegExp | null;
  readonly method: string | null;
  readonly headers: readonly ValueMatcher[];
  readonly query: readonly ValueMatcher[];
}

const LINEAR_LIMIT = 16;

const NEVER = /[^\s\S]/;

function compileValue(m: ValueMatch, lowerName: boolean, regex: (p: string) => RegExp): ValueMatcher {
  const name = lowerName ? m.name.toLowerCase() : m.name;
  if (m.type === 'RegularExpression') return { name, exact: null, regex: regex(m.value) };
  return { name, exact: m.value, regex: null };
}

// HOT PATH
export function firstHeader(headers: string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return undefined;
}

function safeDecode(s: string): string {
  if (!s.includes('%')) return s;
  try { return decodeURIComponent(s); } catch { return s; }
}

function queryParam(query: string, name: string): string | undefined {
  if (query.length < 2) return undefined;
  const parts = query.slice(1).split('&');
  for (const part of parts) {
    const eq = part.indexOf('=');
    const k = safeDecode(eq < 0 ? part : part.slice(0, eq));
    if (k === name) return eq < 0 ? '' : safeDecode(part.slice(eq + 1));
  }
  return undefined;
}

function valueOk(m: ValueMatcher, v: string | undefined): boolean {
  if (v === undefined) return false;
  return m.exact !== null ? m.exact === v : (m.regex as RegExp).test(v);
}

// HOT PATH: everything but the path condition (already satisfied by the index for Exact/PathPrefix).
function restMatches<R>(r: CompiledRoute<R>, input: MatchInput): boolean {
  if (r.method !== null && r.method !== input.method) return false;
  for (let i = 0; i < r.headers.length; i++) {
    const h = r.headers[i];
    if (!valueOk(h, firstHeader(input.headers, h.name))) return false;
  }
  for (let i = 0; i < r.query.length; i++) {
    const q = r.query[i];
    if (!valueOk(q, queryParam(input.query, q.name))) return false;
  }
  return true;
}

function pathMatches<R>(r: CompiledRoute<R>, path: string): boolean {
  switch (r.pathType) {
    case null: return true;
    case 'Exact': return path === r.pathValue;
    case 'PathPrefix': {
      const v = r.pathValue;
      if (v === '/') return true;
      return path.startsWith(v) && (path.length === v.length || path.charCodeAt(v.length) === 47);
    }
    default: return (r.pathRegex as RegExp).test(path);
  }
}

export class RouteTable<R> {
  readonly routes: readonly CompiledRoute<R>[];
  readonly #exact = new Map<string, number[]>();
  readonly #prefix = new Map<string, number[]>();
  readonly #others: number[] = [];

  /** A refused pattern (compile validates them first) is reported through onError and never matches. */
  constructor(entries: readonly RouteEntry[], ruleOf: (entry: RouteEntry) => R, onError: (message: string) => void = () => {}) {
    const regex = (pattern: string, what: string, routeId: string): RegExp => {
      try {
        return compileFullMatch(pattern);
      } catch (err) {
        onError(`${routeId}: ${what}: ${(err as Error).message}; the match never succeeds`);
        return NEVER;
      }
    };
    this.routes = entries.map((entry, index) => {
      const p = entry.match.path;
      let pathValue = p?.value ?? '';
      if (p?.type === 'PathPrefix' && pathValue.length > 1 && pathValue.endsWith('/')) pathValue = pathValue.slice(0, -1);
      if (p?.type === 'PathPrefix' && pathValue === '') pathValue = '/';
      return {
        index,
        entry,
        rule: ruleOf(entry),
        prefix: p?.type === 'PathPrefix' ? pathValue : null,
        pathType: p?.type ?? null,
        pathValue,
        pathRegex: p?.type === 'RegularExpression' ? regex(p.value, 'path', entry.routeId) : null,
        method: entry.match.method ?? null,
        headers: entry.match.headers.map((h) => compileValue(h, true, (v) => regex(v, `header ${h.name}`, entry.routeId))),
        query: entry.match.queryParams.map((q) => compileValue(q, false, (v) => regex(v, `query ${q.name}`, entry.routeId))),
      };
    });
    if (this.routes.length <= LINEAR_LIMIT) return;
    for (const r of this.routes) {
      const map = r.pathType === 'Exact' ? this.#exact : r.pathType === 'PathPrefix' ? this.#prefix : null;
      if (map === null) { this.#others.push(r.index); continue; }
      const list = map.get(r.pathValue);
      if (list) list.push(r.index); else map.set(r.pathValue, [r.index]);
    }
  }

  // HOT PATH
  find(input: MatchInput): CompiledRoute<R> | undefined {
    const routes = this.routes;
    if (routes.length <= LINEAR_LIMIT) {
      for (let i = 0; i < routes.length; i++) {
        const r = routes[i];
        if (pathMatches(r, input.path) && restMatches(r, input)) return r;
      }
      return undefined;
    }
    return this.#indexed(input);
  }

  #indexed(input: MatchInput): CompiledRoute<R> | undefined {
    const path = input.path;
    const lists: number[][] = [];
    const exact = this.#exact.get(path);
    if (exact) lists.push(exact);
    if (this.#prefix.size > 0) {
      const root = this.#prefix.get('/');
      if (root) lists.push(root);
      for (let i = 2; i <= path.length; i++) {
        if (i === path.length || path.charCodeAt(i) === 47) {
          const list = this.#prefix.get(path.slice(0, i));
          if (list) lists.push(list);
        }
      }
    }
    if (this.#others.length > 0) lists.push(this.#others);
    const pos = new Array<number>(lists.length).fill(0);
    const routes = this.routes;
    for (;;) {
      let best = -1;
      let bestIndex = Infinity;
      for (let l = 0; l < lists.length; l++) {
        const list = lists[l];
        if (pos[l] < list.length && list[pos[l]] < bestIndex) { bestIndex = list[pos[l]]; best = l; }
      }
      if (best < 0) return undefined;
      pos[best]++;
      const r = routes[bestIndex];
      if (pathMatches(r, path) && restMatches(r, input)) return r;
    }
  }
}
