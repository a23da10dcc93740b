/**
 * The pool contract shared by the HTTP/1.1 (undici) and h2c pools: dispatch with an undici v7
 * controller-style handler, so the request path drives both the same way.
 */
import type { Dispatcher } from 'undici';
import type { Readable } from 'node:stream';

export interface UpstreamRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  /** Flat `[name, value, ...]`, lower-case names, including `host`. */
  readonly headers: string[];
  readonly body: Buffer | Readable | null;
  /** 0 = no limit. */
  readonly headersTimeout?: number;
  readonly bodyTimeout?: number;
}

/**
 * An undici v7 controller-style handler. `onResponseStartRaw`, when present, replaces
 * `onResponseStart` where the pool has the raw header list (HTTP/1.1): names and values as undici
 * read them, in order, not lower-cased.
 */
export type UpstreamHandler = Dispatcher.DispatchHandler & {
  onResponseStartRaw?(controller: Dispatcher.DispatchController, status: number, rawHeaders: Buffer[]): void;
};

export interface UpstreamPool {
  readonly protocol: 'http1' | 'h2c';
  /** The backend whose events this pool reports (the latest one referencing it). */
  backendId: string;
  dispatch(req: UpstreamRequest, handler: UpstreamHandler): void;
  /** Stop taking requests, let in-flight ones finish. */
  close(): Promise<void>;
  destroy(): Promise<void>;
}
