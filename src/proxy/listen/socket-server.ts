/**
 * One bound socket and everything on it. Cleartext connections go to Ferry's HTTP/1.1 connection
 * handler (h1/), which passes those opening with the HTTP/2 preface (prior-knowledge h2c) to an
 * Http2Server; TLS connections pick one of the two by ALPN, with certificates chosen by SNI. Both carry the
 * hardening limits in ProxyLimits (header size and count, headers/request/keep-alive timeouts,
 * requests per connection, HTTP/2 stream concurrency), and every socket, session and stream has an
 * error handler. The runtime (routes for this socket) is swapped in place by apply(); drain() stops
 * accepting, closes idle HTTP/1.1 and HTTP/2 (GOAWAY) connections, waits for in-flight requests,
 * then destroys what is left.
 */
import http2, { type Http2Session, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { SocketRuntime } from '../config/socket-runtime.ts';
import type { ProxyCore, SocketContext } from '../http/context.ts';
import { Exchange } from '../http/exchange.ts';
import { H2Downstream } from '../http/downstream.ts';
import { H1Connections } from '../h1/connections.ts';
import type { BoundSocket, ResolvedLimits } from '../types.ts';
import { ALPN, buildTls, type TlsRuntime } from './tls.ts';

const noop = () => {};

export class SocketServer implements SocketContext {
  runtime: SocketRuntime;
  readonly core: ProxyCore;
  draining = false;
  inflight = 0;
  readonly protocol: 'HTTP' | 'HTTPS';
  bound: BoundSocket;
  readonly #h1: H1Connections;
  readonly #h2: http2.Http2Server;
  readonly #listener: net.Server;
  #tls: TlsRuntime | null = null;
  readonly #connections = new Set<net.Socket>();
  readonly #sessions = new Set<Http2Session>();
  #idle: (() => void) | null = null;

  private constructor(runtime: SocketRuntime, core: ProxyCore, limits: ResolvedLimits) {
    this.runtime = runtime;
    this.core = core;
    this.protocol = runtime.spec.protocol;
    this.bound = { key: runtime.spec.key, host: runtime.spec.bindHost, port: runtime.spec.bindPort, protocol: this.protocol };

    this.#h1 = new H1Connections(this, limits, this.protocol === 'HTTP' ? (socket) => this.#h2.emit('connection', socket) : null);

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
        allowHalfOpen: true,
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
        else this.#h1.accept(socket);
      });
      server.on('tlsClientError', noop);
      this.#listener = server;
    } else {
      this.#listener = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => this.#h1.accept(socket));
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
      const onError = (err: Error) => { s.#h1.stop(); reject(err); };
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
    this.#h1.closeIdle();
    for (const session of this.#sessions) session.close();
    if (this.inflight > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.core.clock.setTimer(graceMs, resolve);
        this.#idle = () => { timer.cancel(); resolve(); };
      });
    }
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#connections) socket.destroy();
    this.#h1.stop();
    await closed;
  }
}
