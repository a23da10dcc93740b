/**
 * HTTP/1.1 upstream pool: one undici Pool per endpoint, kept alive across snapshot swaps. Its idle
 * keep-alive is shorter than typical upstream keep-alive (4 s against 5 s) so Ferry never reuses a
 * socket the upstream is closing. The connect timeout is the backend policy's `connectTimeoutMs`;
 * hitting it is a connect failure (UND_ERR_CONNECT_TIMEOUT). Connection activity is published as
 * UpstreamEvents.
 */
import { Pool, type Dispatcher } from 'undici';
import { upstreamChannel, type UpstreamEvent } from '../../snapshot/index.ts';
import type { UpstreamHandler, UpstreamPool, UpstreamRequest } from './pool.ts';
import { H1Call } from './h1-call.ts';

const KEEP_ALIVE_MS = 4_000;

export class H1Pool implements UpstreamPool {
  readonly protocol = 'http1';
  backendId: string;
  readonly #pool: Pool;
  readonly #endpoint: string;

  constructor(address: string, port: number, backendId: string, connectTimeoutMs: number) {
    const host = address.includes(':') ? `[${address}]` : address;
    this.#endpoint = `${address}:${port}`;
    this.backendId = backendId;
    this.#pool = new Pool(`http://${host}:${port}`, {
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MS,
      connect: { timeout: connectTimeoutMs },
      bodyTimeout: 0,
      pipelining: 1,
    });
    this.#pool.on('connect', () => this.#publish('connect'));
    this.#pool.on('disconnect', () => this.#publish('disconnect'));
    this.#pool.on('connectionError', () => this.#publish('connect_error'));
  }

  #publish(type: UpstreamEvent['type']): void {
    if (upstreamChannel.hasSubscribers) {
      upstreamChannel.publish({ type, backend: this.backendId, endpoint: this.#endpoint, protocol: 'http1' } satisfies UpstreamEvent);
    }
  }

  // HOT PATH
  dispatch(req: UpstreamRequest, handler: UpstreamHandler): void {
    this.#pool.dispatch({
      method: req.method as 'GET',
      path: req.path,
      headers: req.headers,
      body: req.body,
      headersTimeout: req.headersTimeout,
      bodyTimeout: req.bodyTimeout,
    }, new H1Call(handler) as unknown as Dispatcher.DispatchHandler);
  }

  async close(): Promise<void> {
    await this.#pool.close().catch(() => {});
  }

  async destroy(): Promise<void> {
    await this.#pool.destroy().catch(() => {});
  }
}
