/**
 * WebSocket over HTTP/1.1: the handshake is routed like any request (route filters apply), then sent
 * on a fresh TCP connection to the chosen endpoint. The tunnel opens only when the upstream answers
 * 101 with `Upgrade: websocket` and the Sec-WebSocket-Accept that matches the client's key; any other
 * answer is relayed and both sides are closed. One RequestRecord is published when the session ends.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { Exchange } from '../http/exchange.ts';
import type { SocketContext } from '../http/context.ts';
import { firstHeader } from '../route/route-table.ts';
import { RawDownstream, serializeHead } from './raw-downstream.ts';
import { parseResponseHead } from '../h1/parse.ts';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_HEAD = 16 * 1024;
const MAX_FIELDS = 100;
const HOP = new Set(['connection', 'upgrade', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'x-request-id']);

/** The Upgrade value of a request whose Connection names `upgrade` asks for a WebSocket. */
export function isWebSocketUpgrade(upgrade: string): boolean {
  return upgrade.toLowerCase() === 'websocket';
}

export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/**
 * Serves an upgrade request taken off an HTTP/1.1 connection: `headers` is the flat, lower-cased
 * header list; `early` holds bytes the client sent after the head, forwarded once the upstream is
 * connected. The socket is paused; the tunnel resumes it.
 */
export function handleUpgrade(
  sc: SocketContext, method: string, target: string, headers: string[], socket: net.Socket, early: Buffer, clientAddress: string | undefined,
): void {
  socket.on('error', () => {});
  const x = new Exchange(sc, new RawDownstream(socket), method, target, clientAddress);
  x.onRouted = (routed) => tunnel(routed, socket, early);
  x.run(headers, null, false);
}

interface ParsedHead { status: number; headers: string[]; rest: Buffer }

/** The upstream's answer to the handshake, read by the same strict parser as every HTTP/1.1 response. */
function parseHead(buf: Buffer): ParsedHead | null | 'invalid' {
  let head;
  try {
    head = parseResponseHead(buf, 0, MAX_HEAD, MAX_FIELDS);
  } catch {
    return 'invalid';
  }
  return head === null ? null : { status: head.status, headers: head.headers, rest: buf.subarray(head.end) };
}

function tunnel(x: Exchange, client: net.Socket, early: Buffer): void {
  const backend = x.backend!;
  const ep = backend.pick(x, null);
  if (ep === undefined) return x.localReply(503, 'no healthy upstream', 'no_endpoints');
  x.endpoint = ep;
  x.attempts = 1;
  const key = firstHeader(x.headers, 'sec-websocket-key') ?? '';
  const started = x.sc.core.clock.monotonic();
  const upstream = net.connect({ host: ep.address, port: ep.port });
  let buf: Buffer = Buffer.alloc(0);
  let open = false;
  let failed = false;
  const closeBoth = () => {
    if (!x.finished) { if (!open && !x.down.headersSent) x.localReply(502, 'upstream reset', 'upstream_reset'); else x.finish(); }
    upstream.destroy();
    client.destroy();
  };
  upstream.on('error', (err: Error & { code?: string }) => {
    if (!x.down.headersSent && !failed) {
      failed = true;
      const connect = err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ETIMEDOUT';
      x.localReply(502, connect ? 'upstream connect error' : 'upstream reset', connect ? 'upstream_connect_failure' : 'upstream_reset');
    }
    closeBoth();
  });
  client.once('close', () => upstream.destroy());
  upstream.once('connect', () => {
    let h = `${x.method} ${x.path}${x.query} HTTP/1.1\r\n`;
    const hs = x.headers;
    for (let i = 0; i < hs.length; i += 2) h += `${hs[i]}: ${hs[i + 1]}\r\n`;
    upstream.write(h + 'connection: upgrade\r\nupgrade: websocket\r\n\r\n');
    if (early.length > 0) upstream.write(early);
  });
  const onData = (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const parsed = parseHead(buf);
    if (parsed === null) return;
    upstream.off('data', onData);
    x.upstreamMs = x.sc.core.clock.monotonic() - started;
    if (parsed === 'invalid') { failed = true; x.localReply(502, 'invalid upstream handshake response', 'upstream_reset'); return closeBoth(); }
    x.status = parsed.status;
    const upgrade = firstHeader(parsed.headers, 'upgrade');
    const accept = firstHeader(parsed.headers, 'sec-websocket-accept');
    const ok = parsed.status === 101 && upgrade?.toLowerCase() === 'websocket' && key !== '' && accept === acceptFor(key);
    const out: string[] = [];
    for (let i = 0; i < parsed.headers.length; i += 2) if (!HOP.has(parsed.headers[i])) out.push(parsed.headers[i], parsed.headers[i + 1]);
    out.push('x-request-id', x.requestId);
    for (const f of x.responseFilters) f.onResponse(out);
    for (const f of x.shareResponseFilters) f.onResponse(out);
    if (!ok) {
      // Not a valid WebSocket answer: relay it as a plain response and close both sides.
      x.error = 'upstream_rejected_upgrade';
      x.down.headersSent = true;
      // Nothing the client sends is tunnelled now; reading on lets its close be seen.
      client.resume();
      client.write(serializeHead(parsed.status === 101 ? 502 : parsed.status, [...out, 'connection', 'close']));
      if (parsed.status !== 101) {
        if (parsed.rest.length > 0) client.write(parsed.rest);
        upstream.pipe(client);
        upstream.once('end', () => { x.finish(); client.end(); });
      } else {
        x.status = 502;
        x.finish();
        client.end();
        upstream.destroy();
      }
      return;
    }
    open = true;
    x.longLived = true;
    x.down.headersSent = true;
    client.write(serializeHead(101, ['upgrade', 'websocket', 'connection', 'Upgrade', ...out]));
    if (parsed.rest.length > 0) client.write(parsed.rest);
    client.on('data', (c: Buffer) => { x.bytesIn += c.length; });
    upstream.on('data', (c: Buffer) => { x.bytesOut += c.length; });
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('end', () => upstream.end());
    upstream.once('end', () => client.end());
    upstream.once('close', closeBoth);
    client.once('close', closeBoth);
  };
  upstream.on('data', onData);
}
