/**
 * Response header hygiene: upstream headers (a flat `[name, value, ...]` list with lower-case names,
 * as the HTTP/1.1 pool parses them or from an HTTP/2 header object) to the list sent downstream,
 * without hop-by-hop headers or the ones Connection names, with X-Request-Id echoed, the affinity
 * cookie set when Ferry chose one, and the rule's then the backendRef's ResponseHeaderModifiers applied.
 */
import type { Exchange } from './exchange.ts';

export type Headers = Record<string, string | string[] | undefined>;

/** A header object (HTTP/2 upstream) to a flat list; repeated fields become repeated entries. */
export function flatFromObject(headers: Headers): string[] {
  const out: string[] = [];
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    if (typeof v === 'string') out.push(name, v);
    else for (let i = 0; i < v.length; i++) out.push(name, v[i]);
  }
  return out;
}

/** The first value of `name` (lower-case) in a flat list. */
// HOT PATH
export function flatGet(flat: string[], name: string): string | undefined {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

// HOT PATH
export function responseHeaders(headers: string[], x: Exchange): string[] {
  const out: string[] = [];
  let conn: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    switch (name) {
      case 'connection':
        conn = conn === undefined ? headers[i + 1] : conn + ',' + headers[i + 1];
        continue;
      case 'keep-alive': case 'proxy-connection': case 'transfer-encoding':
      case 'upgrade': case 'x-request-id': case 'http2-settings':
        continue;
    }
    out.push(name, headers[i + 1]);
  }
  if (conn !== undefined && conn !== 'keep-alive' && conn !== 'close') {
    for (const token of conn.split(',')) {
      const t = token.trim().toLowerCase();
      for (let i = 0; i < out.length; i += 2) {
        if (out[i] === t) { out.splice(i, 2); i -= 2; }
      }
    }
  }
  out.push('x-request-id', x.requestId);
  const cookies = x.setCookies;
  if (cookies !== null) for (let i = 0; i < cookies.length; i++) out.push('set-cookie', cookies[i]);
  const rf = x.responseFilters;
  for (let i = 0; i < rf.length; i++) rf[i].onResponse(out);
  const bf = x.shareResponseFilters;
  for (let i = 0; i < bf.length; i++) bf[i].onResponse(out);
  return out;
}

export function wantsTrailers(headers: string[], x: Exchange): boolean {
  if (x.down.protocol !== 'HTTP/2') return false;
  const ct = flatGet(headers, 'content-type');
  return (ct !== undefined && ct.startsWith('application/grpc')) || flatGet(headers, 'trailer') !== undefined;
}
