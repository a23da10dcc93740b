/**
 * Response header hygiene: upstream headers (undici's lower-case object) to the flat list sent
 * downstream, without hop-by-hop headers or the ones Connection names, with X-Request-Id echoed, the
 * affinity cookie set when Ferry chose one, and the rule's then the backendRef's
 * ResponseHeaderModifiers applied.
 */
import type { Exchange } from './exchange.ts';

type Headers = Record<string, string | string[] | undefined>;

// HOT PATH
export function responseHeaders(headers: Headers, x: Exchange): string[] {
  const out: string[] = [];
  for (const name in headers) {
    switch (name) {
      case 'connection': case 'keep-alive': case 'proxy-connection': case 'transfer-encoding':
      case 'upgrade': case 'x-request-id': case 'http2-settings':
        continue;
    }
    const v = headers[name];
    if (v === undefined) continue;
    if (typeof v === 'string') out.push(name, v);
    else for (let i = 0; i < v.length; i++) out.push(name, v[i]);
  }
  const conn = headers.connection;
  if (typeof conn === 'string' && conn !== 'keep-alive' && conn !== 'close') {
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

export function wantsTrailers(headers: Headers, x: Exchange): boolean {
  if (x.down.protocol !== 'HTTP/2') return false;
  const ct = headers['content-type'];
  return (typeof ct === 'string' && ct.startsWith('application/grpc')) || headers.trailer !== undefined;
}
