/**
 * HTTP/1.1 upstream pool for one endpoint, kept alive across snapshot swaps: a LIFO stack of idle
 * keep-alive connections (h1-connection.ts) and a new connection whenever none is idle (no cap: the
 * backend's circuit breaker bounds concurrency). Idle connections are closed after 4 s, less than
 * typical upstream keep-alive (5 s), so Ferry rarely reuses a socket the upstream is closing; when it
 * does, the connection retries an idempotent request once on a fresh socket. Idle expiry is enforced
 * by one shared periodic sweep, never by a timer per connection. (Per-attempt and whole-request
 * timeouts belong to the request path, forward.ts.) The connect
 * timeout is the backend policy's `connectTimeoutMs`; connection activity is published as
 * UpstreamEvents.
 */
import net from 'node:net';
import { upstreamChannel, type UpstreamEvent } from '../../snapshot/index.ts';
import type { UpstreamHandler, UpstreamPool, UpstreamRequest } from './pool.ts';
import { H1Connection, type ConnectionOwner } from './h1-connection.ts';
import { readOptions } from './read-buffers.ts';
import { UPSTREAM_CLOSED, UPSTREAM_POOL_CLOSED, UpstreamError } from './errors.ts';

const KEEP_ALIVE_MS = 4_000;
const SWEEP_MS = 1_000;

export interface H1PoolOptions {
  /** How long a connection may stay idle; default 4 s (closed within one sweep period of it). */
  keepAliveMs?: number;
  /** Opens the socket to the endpoint; default net.connect reading through `onread`. */
  connect?: (port: number, host: string, onread: net.OnReadOpts) => net.Socket;
}

function connectSocket(port: number, host: string, onread: net.OnReadOpts): net.Socket {
  return net.connect({ port, host, onread });
}

// The shared sweep: one unref'd interval over every pool that has connections.
const sweeping = new Set<H1Pool>();
let sweepTimer: NodeJS.Timeout | null = null;
/** Sweeps so far; idle connections remember the tick they went idle at. */
let tick = 0;

function sweepAll(): void {
  tick++;
  for (const pool of sweeping) pool.sweep();
}

function watch(pool: H1Pool): void {
  sweeping.add(pool);
  if (sweepTimer === null) {
    sweepTimer = setInterval(sweepAll, SWEEP_MS);
    sweepTimer.unref();
  }
}

function unwatch(pool: H1Pool): void {
  sweeping.delete(pool);
  if (sweeping.size === 0 && sweepTimer !== null) {
    clearInterval(sweepTimer);
    sweepTimer = null;
  }
}

export class H1Pool implements UpstreamPool, ConnectionOwner {
  readonly protocol = 'http1';
  backendId: string;
  readonly #address: string;
  readonly #port: number;
  readonly #endpoint: string;
  readonly #connectTimeoutMs: number;
  /** Sweeps a connection may stay idle for. */
  readonly #idleTicks: number;
  readonly #connect: (port: number, host: string, onread: net.OnReadOpts) => net.Socket;
  /** Idle connections, most recently used last. */
  readonly #idle: H1Connection[] = [];
  readonly #all = new Set<H1Connection>();
  #closed = false;
  #onEmpty: (() => void) | null = null;

  constructor(address: string, port: number, backendId: string, connectTimeoutMs: number, options: H1PoolOptions = {}) {
    this.#address = address;
    this.#port = port;
    this.#endpoint = `${address}:${port}`;
    this.backendId = backendId;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#idleTicks = Math.max(1, Math.ceil((options.keepAliveMs ?? KEEP_ALIVE_MS) / SWEEP_MS));
    this.#connect = options.connect ?? connectSocket;
  }

  /** Connections open or opening, and how many of them are idle. */
  get size(): number { return this.#all.size; }
  get idleCount(): number { return this.#idle.length; }

  #publish(type: UpstreamEvent['type']): void {
    if (upstreamChannel.hasSubscribers) {
      upstreamChannel.publish({ type, backend: this.backendId, endpoint: this.#endpoint, protocol: 'http1' } satisfies UpstreamEvent);
    }
  }

  // HOT PATH
  dispatch(req: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.#closed) {
      handler.onResponseError?.(null, poolClosed());
      return;
    }
    const idle = this.#idle;
    while (idle.length > 0) {
      const conn = idle.pop()!;
      conn.idle = false;
      if (conn.dead) continue;
      conn.start(req, handler, true);
      return;
    }
    this.#open().start(req, handler, false);
  }

  #open(): H1Connection {
    let conn: H1Connection | null = null;
    const onread = readOptions((chunk, more) => conn!.onData(chunk, more));
    conn = new H1Connection(this, this.#connect(this.#port, this.#address, onread), this.#connectTimeoutMs);
    if (this.#all.size === 0) watch(this);
    this.#all.add(conn);
    return conn;
  }

  // ConnectionOwner

  connected(_conn: H1Connection): void {
    this.#publish('connect');
  }

  // HOT PATH
  release(conn: H1Connection): void {
    if (this.#closed) { conn.destroy(null); return; }
    conn.idle = true;
    conn.idleTick = tick;
    this.#idle.push(conn);
  }

  unusable(conn: H1Connection): void {
    if (!conn.idle) return;
    conn.idle = false;
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  gone(conn: H1Connection, connectFailed: boolean): void {
    this.unusable(conn);
    if (!this.#all.delete(conn)) return;
    if (conn.connected) this.#publish('disconnect');
    else if (connectFailed) this.#publish('connect_error');
    if (this.#all.size === 0) {
      unwatch(this);
      const done = this.#onEmpty;
      this.#onEmpty = null;
      done?.();
    }
  }

  retry(req: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.#closed) {
      handler.onResponseError?.(null, poolClosed());
      return;
    }
    this.#open().start(req, handler, false);
  }

  /** Closes connections idle for the keep-alive time. */
  sweep(): void {
    const idle = this.#idle;
    let expired = 0;
    while (expired < idle.length && tick - idle[expired].idleTick >= this.#idleTicks) expired++;
    if (expired > 0) {
      for (const conn of idle.splice(0, expired)) {
        conn.idle = false;
        conn.destroy(null);
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const conn of this.#idle.splice(0)) {
      conn.idle = false;
      conn.destroy(null);
    }
    await this.#empty();
  }

  async destroy(): Promise<void> {
    this.#closed = true;
    this.#idle.length = 0;
    const err = new UpstreamError(UPSTREAM_CLOSED, 'upstream pool destroyed');
    for (const conn of [...this.#all]) {
      conn.idle = false;
      conn.destroy(err);
    }
    await this.#empty();
  }

  /** Resolves once every connection has closed. */
  #empty(): Promise<void> {
    if (this.#all.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.#onEmpty;
      this.#onEmpty = prev === null ? resolve : () => { prev(); resolve(); };
    });
  }
}

function poolClosed(): Error {
  return new UpstreamError(UPSTREAM_POOL_CLOSED, 'upstream pool closed');
}
