/**
 * The HTTP/1.1 client connections of one listening socket: accepts sockets, runs the one periodic
 * timeout sweep over them (every second, unref'd, like node:http's connectionsCheckingInterval),
 * closes idle ones when the socket drains, and on cleartext sockets passes connections that open with
 * the HTTP/2 preface (prior-knowledge h2c) to the HTTP/2 server.
 */
import type net from 'node:net';
import type { SocketContext } from '../http/context.ts';
import type { ResolvedLimits } from '../types.ts';
import { H1ServerConnection } from './server-connection.ts';

const SWEEP_INTERVAL_MS = 1_000;

/** Takes a connection that opened with the HTTP/2 preface: paused, with every byte read so far unshifted. */
export type H2cHandoff = (socket: net.Socket) => void;

export class H1Connections {
  readonly sc: SocketContext;
  readonly limits: ResolvedLimits;
  /** Cleartext sockets only: where connections opening with the HTTP/2 preface go; null on TLS sockets (ALPN decides there). */
  readonly h2c: H2cHandoff | null;
  readonly #all = new Set<H1ServerConnection>();
  #timer: NodeJS.Timeout | null;

  constructor(sc: SocketContext, limits: ResolvedLimits, h2c: H2cHandoff | null) {
    this.sc = sc;
    this.limits = limits;
    this.h2c = h2c;
    this.#timer = setInterval(this.#sweep, SWEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Serves HTTP/1.1 on `socket` (or hands it to `h2c` if it opens with the HTTP/2 preface). */
  accept(socket: net.Socket): void {
    if (socket.destroyed) return;
    this.#all.add(new H1ServerConnection(this, socket));
  }

  remove(c: H1ServerConnection): void {
    this.#all.delete(c);
  }

  get size(): number {
    return this.#all.size;
  }

  closeIdle(): void {
    for (const c of this.#all) c.closeIfIdle();
  }

  /** Stops the sweep (the listening socket is gone). */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  readonly #sweep = (): void => {
    const now = Date.now();
    for (const c of this.#all) {
      try {
        c.sweep(now);
      } catch {
        c.socket.destroy();
      }
    }
  };
}
