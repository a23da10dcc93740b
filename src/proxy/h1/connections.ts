/**
 * The HTTP/1.1 client connections of one listening socket: accepts sockets (with any bytes already
 * read while sniffing), runs the one periodic timeout sweep over them (every second, unref'd, like
 * node:http's connectionsCheckingInterval) and closes idle ones when the socket drains.
 */
import type net from 'node:net';
import type { SocketContext } from '../http/context.ts';
import type { ResolvedLimits } from '../types.ts';
import { H1ServerConnection } from './server-connection.ts';

const SWEEP_INTERVAL_MS = 1_000;

export class H1Connections {
  readonly sc: SocketContext;
  readonly limits: ResolvedLimits;
  readonly #all = new Set<H1ServerConnection>();
  #timer: NodeJS.Timeout | null;

  constructor(sc: SocketContext, limits: ResolvedLimits) {
    this.sc = sc;
    this.limits = limits;
    this.#timer = setInterval(this.#sweep, SWEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Serves HTTP/1.1 on `socket`; `first` holds bytes already read from it. */
  accept(socket: net.Socket, first: Buffer | null): void {
    if (socket.destroyed) return;
    const c = new H1ServerConnection(this, socket);
    this.#all.add(c);
    if (first !== null && first.length > 0) c.receive(first);
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
