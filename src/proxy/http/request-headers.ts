/**
 * Request header hygiene, one pass over the client's raw headers: drops hop-by-hop headers (and every
 * header the Connection header names), client-supplied forwarding headers (`x-forwarded-*`,
 * `forwarded`, `x-real-ip`), `expect`, and header names containing an underscore (nginx's behaviour:
 * they are silently dropped, so `x_forwarded_for` cannot alias a trusted header). Ferry's own headers
 * (X-Forwarded-*, X-Request-Id, Via, Host) are appended afterwards by appendForwarding(), after filters,
 * so no client header can remove them.
 */
import { removeHeader } from '../filters/index.ts';

export interface RequestHead {
  /** First Host (HTTP/1.1) or :authority (HTTP/2) value, or null. */
  hostValue: string | null;
  hostCount: number;
  /** Client X-Request-Id when it is a sane token, else null. */
  requestId: string | null;
  via: string | null;
  transferEncoding: boolean;
  contentLength: number;
  /** The downstream asked for trailers (`te: trailers`, gRPC). */
  teTrailers: boolean;
  connection: string | null;
  upgrade: string | null;
}

export function emptyHead(): RequestHead {
  return { hostValue: null, hostCount: 0, requestId: null, via: null, transferEncoding: false, contentLength: -1, teTrailers: false, connection: null, upgrade: null };
}

/** A request id we keep: 1–64 characters of `A-Z a-z 0-9 . _ : -`. */
export function saneRequestId(v: string): boolean {
  if (v.length === 0 || v.length > 64) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    const ok = (c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95;
    if (!ok) return false;
  }
  return true;
}

const CONNECTION_KEEP = new Set(['close', 'keep-alive', 'upgrade', '']);

/**
 * Fills `out` with the headers to forward and `head` with what Ferry itself needs.
 * Pseudo-headers (HTTP/2) are consumed; `:authority` counts as the host.
 */
// HOT PATH
export function scanRequestHeaders(raw: string[], out: string[], head: RequestHead): void {
  let cookieAt = -1;
  let authority: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    switch (name) {
      case 'host':
        if (head.hostValue === null) head.hostValue = value;
        head.hostCount++;
        continue;
      case ':authority': authority = value; continue;
      case 'connection': head.connection = head.connection === null ? value : head.connection + ',' + value; continue;
      case 'transfer-encoding': head.transferEncoding = true; continue;
      case 'content-length': head.contentLength = Number(value); out.push(name, value); continue;
      case 'upgrade': head.upgrade = value; continue;
      case 'te':
        if (value.toLowerCase().includes('trailers')) { head.teTrailers = true; out.push('te', 'trailers'); }
        continue;
      case 'x-request-id': if (head.requestId === null && saneRequestId(value)) head.requestId = value; continue;
      case 'via': head.via = head.via === null ? value : head.via + ', ' + value; continue;
      case 'cookie':
        if (cookieAt >= 0) { out[cookieAt + 1] += '; ' + value; continue; }
        cookieAt = out.length;
        out.push(name, value);
        continue;
      case 'keep-alive': case 'proxy-connection': case 'proxy-authorization': case 'trailer':
      case 'expect': case 'http2-settings': case 'forwarded': case 'x-real-ip':
        continue;
    }
    if (name.charCodeAt(0) === 58 || name.includes('_') || name.startsWith('x-forwarded-')) continue;
    out.push(name, value);
  }
  if (authority !== null) {
    // HTTP/2: :authority wins; a Host header that names another authority is a conflict (400).
    if (head.hostValue !== null && head.hostValue.toLowerCase() !== authority.toLowerCase()) head.hostCount = 2;
    else head.hostCount = 1;
    head.hostValue = authority;
  }
  if (head.connection !== null) {
    for (const token of head.connection.split(',')) {
      const t = token.trim().toLowerCase();
      if (!CONNECTION_KEEP.has(t)) removeHeader(out, t);
    }
  }
}

export interface Forwarding {
  host: string;
  clientAddress: string;
  proto: string;
  originalHost: string;
  port: string;
  requestId: string;
  via: string;
}

/** Ferry's own headers, appended after hop-by-hop removal and filters. */
// HOT PATH
export function appendForwarding(out: string[], f: Forwarding): void {
  out.push(
    'host', f.host,
    'x-forwarded-for', f.clientAddress,
    'x-forwarded-proto', f.proto,
    'x-forwarded-host', f.originalHost,
    'x-forwarded-port', f.port,
    'x-request-id', f.requestId,
    'via', f.via,
  );
}
