/**
 * One bound socket and everything on it. Cleartext sockets sniff each connection for the HTTP/2
 * preface (prior-knowledge h2c) and hand it to an http.Server or an Http2Server; TLS sockets pick by
 * ALPN the same way, with certificates chosen by SNI. Both servers carry the hardening limits in
 * ProxyLimits (header size and count, headers/request/keep-alive timeouts, requests per connection,
 * HTTP/2 stream concurrency), and every socket, session and stream has an error handler. The runtime
 * (routes for this socket) is swapped in place by apply(); drain() stops accepting, closes idle and
 * HTTP/2 (GOAWAY) connections, waits for in-flight requests, then destroys what is left.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2, { type Http2Session, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { SocketRuntime } from '../config/socket-runtime.ts';
import type { ProxyCore, SocketContext } from '../http/context.ts';
import { Exchange } from '../http/exchange.ts';
import { H1Downstream, H2Downstream } from '../http/downstream.ts';
import { handleUpgrade, isWebSocketUpgrade } from '../ws/websocket.ts';
import type { BoundSocket, ResolvedLimits } from '../types.ts';
import { ALPN, buildTls, type TlsRuntime } from './tls.ts';
import { sniffPreface } from './sniff.ts';

const noop = () => {};

function rejectClient(err: Error & { code?: string }, socket: Duplex): void {
  const s = socket as net.Socket & { _httpMessage?: unknown };
  if (s.writable && !s._httpMessage && err.code !== 'ECONNRESET') {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    s.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  }
  s.destroySoon?.();
  setImmediate(() => s.destroy());
}

export class SocketServer implements SocketContext {
  runtime: SocketRuntime;
  readonly core: ProxyCore;
  draining = false;
  inflight = 0;
  readonly protocol: 'HTTP' | 'HTTPS';
  bound: BoundSocket;
  readonly #limits: ResolvedLimits;
  readonly #h1: http.Server;
  readonly #h2: http2.Http2Server;
  readonly #listener: net.Server;
  #tls: TlsRuntime | null = null;
  readonly #connections = new Set<net.Socket>();
  readonly #sessions = new Set<Http2Session>();
  #idle: (() => void) | null = null;

  private constructor(runtime: SocketRuntime, core: ProxyCore, limits: ResolvedLimits) {
    this.runtime = runtime;
    this.core = core;
    this.#limits = limits;
    this.protocol = runtime.spec.protocol;
    this.bound = { key: runtime.spec.key, host: runtime.spec.bindHost, port: runtime.spec.bindPort, protocol: this.protocol };

    const h1 = http.createServer({
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: 1_000,
      requireHostHeader: true,
      joinDuplicateHeaders: false,
      shouldUpgradeCallback: isWebSocketUpgrade,
    }, this.#onRequest);
    h1.maxHeadersCount = limits.maxHeadersCount;
    h1.maxRequestsPerSocket = limits.maxRequestsPerSocket;
    h1.on('clientError', rejectClient);
    h1.on('upgrade', (req: IncomingMessage, socket: net.Socket, head: Buffer) => handleUpgrade(this, req, socket, head));
    // The server never listens itself; 'listening' starts its timeout bookkeeping.
    h1.emit('listening');
    this.#h1 = h1;

    const h2 = http2.createServer({
      settings: { maxConcurrentStreams: limits.h2MaxConcurrentStreams, maxHeaderListSize: limits.maxHeaderBytes, enablePush: false },
      maxSessionInvalidFrames: 100,
    });
    h2.on('session', (session: Http2Session) => {
      this.#sessions.add(session);
      session.on('error', noop);
      session.on('close', () => this.#sessions.delete(session));
      session.setTimeout(120_000, () => session.close());
      if (this.draining) session.close();
    });
    h2.on('sessionError', noop);
    h2.on('stream', this.#onStream);
    this.#h2 = h2;

    if (this.protocol === 'HTTPS') {
      this.#tls = buildTls(runtime.spec);
      const server = tls.createServer({
        ...this.#tls.defaults,
        noDelay: true,
        ALPNProtocols: ALPN,
        handshakeTimeout: limits.headersTimeoutMs,
        SNICallback: (servername, cb) => {
          try { cb(null, this.#tls!.select(servername).context); } catch { cb(null, undefined); }
        },
      });
      server.on('secureConnection', (socket: tls.TLSSocket) => {
        socket.on('error', noop);
        const wanted = this.#tls!.select((socket as tls.TLSSocket & { servername?: string }).servername || '').minVersion;
        if (wanted === 'TLSv1.3' && socket.getProtocol() !== 'TLSv1.3') { socket.destroy(); return; }
        if (socket.alpnProtocol === 'h2') this.#h2.emit('connection', socket);
        else this.#h1.emit('connection', socket);
      });
      server.on('tlsClientError', noop);
      this.#listener = server;
    } else {
      this.#listener = net.createServer({ noDelay: true }, (socket) => {
        sniffPreface(socket, limits.headersTimeoutMs, (isH2, first) => {
          if (isH2) {
            socket.pause();
            socket.unshift(first);
            this.#h2.emit('connection', socket);
          } else {
            this.#h1.emit('connection', socket);
            socket.emit('data', first);
          }
        });
      });
    }
    this.#listener.on('connection', (socket: net.Socket) => {
      socket.on('error', noop);
      if (this.draining) { socket.destroy(); return; }
      this.#connections.add(socket);
      socket.once('close', () => this.#connections.delete(socket));
    });
  }

  /** Binds a new socket; rejects with the listen error (EADDRINUSE...). */
  static open(runtime: SocketRuntime, core: ProxyCore, limits: ResolvedLimits): Promise<SocketServer> {
    const s = new SocketServer(runtime, core, limits);
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      s.#listener.once('error', onError);
      s.#listener.listen({ host: runtime.spec.bindHost, port: runtime.spec.bindPort }, () => {
        s.#listener.off('error', onError);
        s.#listener.on('error', noop);
        const addr = s.#listener.address() as net.AddressInfo;
        s.bound = { ...s.bound, port: addr.port };
        resolve(s);
      });
    });
  }

  /** Points the socket at a new runtime; throws (keeping the old one) when TLS material is unusable. */
  update(runtime: SocketRuntime): void {
    if (this.protocol === 'HTTPS') {
      const next = buildTls(runtime.spec);
      (this.#listener as tls.Server).setSecureContext(next.defaults);
      this.#tls = next;
    }
    this.runtime = runtime;
  }

  // HOT PATH
  readonly #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const x = new Exchange(this, new H1Downstream(req, res, this), req.method as string, req.url as string, req.socket.remoteAddress);
    if (req.rawHeaders.length >= this.#limits.maxHeadersCount * 2) {
      x.down.closeAfter();
      return x.localReply(431, 'too many header fields', 'bad_request');
    }
    x.run(req.rawHeaders, null, req.httpVersionMinor === 0 && req.httpVersionMajor === 1);
  };

  readonly #onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]): void => {
    stream.on('error', noop);
    const x = new Exchange(this, new H2Downstream(stream), String(headers[':method']), headers[':path'] ?? '', stream.session?.socket?.remoteAddress);
    x.run(rawHeaders, (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0, false);
  };

  onIdle(): void {
    this.#idle?.();
  }

  /** Stops accepting and waits up to graceMs for in-flight requests, then closes every connection. */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.#listener.close(() => resolve()));
    this.#h1.closeIdleConnections();
    for (const session of this.#sessions) session.close();
    if (this.inflight > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.core.clock.setTimer(graceMs, resolve);
        this.#idle = () => { timer.cancel(); resolve(); };
      });
    }
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#connections) socket.destroy();
    this.#h1.close();
    await closed;
  }
}
