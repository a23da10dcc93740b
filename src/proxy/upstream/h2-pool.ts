/**
 * h2c upstream pool (gRPC and `kubernetes.io/h2c` backends): prior-knowledge HTTP/2 sessions to one
 * endpoint, opened on demand, a new one when every open session is at the peer's stream limit,
 * dropped on GOAWAY or close (the next request reconnects). A session not connected within the
 * backend's `connectTimeoutMs` is destroyed and its streams fail as connect failures. Streams are
 * driven through the same controller-style handler as undici, trailers included.
 */
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';
import { upstreamChannel, type UpstreamEvent } from '../../snapshot/index.ts';
import type { UpstreamHandler, UpstreamPool, UpstreamRequest } from './pool.ts';
import { StreamRefused } from './errors.ts';

const IDLE_MS = 30_000;
const CONNECTION_SPECIFIC = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

interface SessionEntry {
  readonly session: ClientHttp2Session;
  active: number;
  usable: boolean;
  connected: boolean;
}

export class H2Pool implements UpstreamPool {
  readonly protocol = 'h2c';
  backendId: string;
  readonly #origin: string;
  readonly #endpoint: string;
  readonly #sessions: SessionEntry[] = [];
  readonly #connectTimeoutMs: number;
  #closed = false;

  constructor(address: string, port: number, backendId: string, connectTimeoutMs: number) {
    this.#connectTimeoutMs = connectTimeoutMs;
    const host = address.includes(':') ? `[${address}]` : address;
    this.#origin = `http://${host}:${port}`;
    this.#endpoint = `${address}:${port}`;
    this.backendId = backendId;
  }

  #publish(type: UpstreamEvent['type']): void {
    if (upstreamChannel.hasSubscribers) {
      upstreamChannel.publish({ type, backend: this.backendId, endpoint: this.#endpoint, protocol: 'h2c' } satisfies UpstreamEvent);
    }
  }

  #session(): SessionEntry {
    for (const e of this.#sessions) {
      const limit = e.session.remoteSettings?.maxConcurrentStreams ?? 100;
      if (e.usable && !e.session.destroyed && e.active < limit) return e;
    }
    const session = http2.connect(this.#origin, { settings: { enablePush: false } });
    const entry: SessionEntry = { session, active: 0, usable: true, connected: false };
    this.#sessions.push(entry);
    const drop = () => {
      entry.usable = false;
      const i = this.#sessions.indexOf(entry);
      if (i >= 0) this.#sessions.splice(i, 1);
    };
    const connectTimer = setTimeout(() => {
      if (!entry.connected) session.destroy(Object.assign(new Error('upstream connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' }));
    }, this.#connectTimeoutMs);
    connectTimer.unref();
    session.on('connect', () => { clearTimeout(connectTimer); entry.connected = true; this.#publish('connect'); });
    session.on('error', () => { if (!entry.connected) this.#publish('connect_error'); drop(); });
    session.on('goaway', drop);
    session.on('close', () => { clearTimeout(connectTimer); drop(); if (entry.connected) this.#publish('disconnect'); });
    session.setTimeout(IDLE_MS, () => { if (entry.active === 0) { drop(); session.close(); } });
    return entry;
  }

  dispatch(req: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.#closed) {
      handler.onResponseError?.(undefined as never, Object.assign(new Error('pool closed'), { code: 'ECONNREFUSED' }));
      return;
    }
    new H2Call(this.#session(), req, handler);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#sessions.splice(0).map((e) => new Promise<void>((resolve) => {
      if (e.session.closed || e.session.destroyed) return resolve();
      e.session.close(() => resolve());
    })));
  }

  async destroy(): Promise<void> {
    this.#closed = true;
    for (const e of this.#sessions.splice(0)) e.session.destroy();
  }
}

function toH2Request(req: UpstreamRequest): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':method': req.method, ':path': req.path, ':scheme': 'http' };
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i];
    if (name === 'host') { out[':authority'] = h[i + 1]; continue; }
    if (name === 'te') { if (h[i + 1] === 'trailers') out.te = 'trailers'; continue; }
    if (CONNECTION_SPECIFIC.has(name)) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = h[i + 1];
    else if (Array.isArray(prev)) prev.push(h[i + 1]);
    else out[name] = [String(prev), h[i + 1]];
  }
  return out;
}

/** One upstream stream, presented to the handler as an undici DispatchController. */
class H2Call {
  readonly #handler: UpstreamHandler;
  readonly #entry: SessionEntry;
  #stream: ClientHttp2Stream | null = null;
  #done = false;
  #responded = false;
  #trailers: IncomingHttpHeaders = {};
  paused = false;
  aborted = false;
  reason: Error | null = null;

  constructor(entry: SessionEntry, req: UpstreamRequest, handler: UpstreamHandler) {
    this.#handler = handler;
    this.#entry = entry;
    handler.onRequestStart?.(this, {});
    if (this.aborted) return;
    let stream: ClientHttp2Stream;
    try {
      stream = entry.session.request(toH2Request(req), { endStream: req.body === null });
    } catch (err) {
      this.#fail(err as Error);
      return;
    }
    this.#stream = stream;
    entry.active++;
    stream.on('response', (headers) => {
      this.#responded = true;
      const status = Number(headers[':status']);
      delete headers[':status'];
      this.#handler.onResponseStart?.(this, status, headers as Record<string, string | string[]>);
    });
    stream.on('data', (chunk: Buffer) => {
      if (this.#done) return;
      this.#handler.onResponseData?.(this, chunk);
    });
    stream.on('trailers', (t) => { this.#trailers = t; });
    stream.on('end', () => {
      if (this.#done) return;
      this.#done = true;
      this.#handler.onResponseEnd?.(this, this.#trailers as Record<string, string | string[]>);
    });
    stream.on('error', (err) => this.#fail(err));
    stream.on('close', () => {
      entry.active--;
      if (this.#done) return;
      const code = stream.rstCode;
      if (code === http2.constants.NGHTTP2_REFUSED_STREAM || (!this.#responded && code === http2.constants.NGHTTP2_NO_ERROR && entry.session.closed)) {
        this.#fail(new StreamRefused(`upstream refused the stream (code ${code})`));
      } else {
        this.#fail(Object.assign(new Error(`upstream stream closed (code ${code})`), { code: 'ECONNRESET' }));
      }
    });
    const body = req.body;
    if (body === null) return;
    if (Buffer.isBuffer(body)) { stream.end(body); return; }
    (body as Readable).pipe(stream);
  }

  #fail(err: Error): void {
    if (this.#done) return;
    this.#done = true;
    if (!this.#entry.connected && !this.aborted && !(err instanceof StreamRefused)) {
      // The session never came up: the request cannot have reached the upstream.
      err = Object.assign(new Error(`upstream connect error: ${err.message}`), { code: 'ECONNREFUSED' });
    }
    this.#handler.onResponseError?.(this, err);
  }

  pause(): void { this.paused = true; this.#stream?.pause(); }
  resume(): void { this.paused = false; this.#stream?.resume(); }

  abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const s = this.#stream;
    if (s !== null && !s.destroyed) s.close(http2.constants.NGHTTP2_CANCEL);
    this.#fail(reason);
  }

}
