/**
 * The pool contract shared by the HTTP/1.1 and h2c pools: a request is dispatched with a
 * controller-style handler (the shape of undici v7's dispatch handlers), so the request path drives
 * both pools the same way.
 */
import type { Readable } from 'node:stream';

/** Header or trailer fields as an object: lower-case names, repeated fields as arrays. */
export type UpstreamHeaders = Record<string, string | string[] | undefined>;

export interface UpstreamRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  /** Flat `[name, value, ...]`, lower-case names, including `host`. */
  readonly headers: string[];
  readonly body: Buffer | Readable | null;
}

/**
 * What a handler can do to its request, from onRequestStart until onResponseEnd or onResponseError;
 * calls after that do nothing (a kept-alive connection may be serving another request by then).
 */
export interface UpstreamController {
  readonly paused: boolean;
  readonly aborted: boolean;
  readonly reason: Error | null;
  /** Stop delivering response data until resume(). */
  pause(): void;
  resume(): void;
  /** Fail the request with `reason` (onResponseError, once; never after onResponseEnd). */
  abort(reason: Error): void;
}

/**
 * The callbacks of one request. `onRequestStart` may come twice when the HTTP/1.1 pool retries a
 * request transparently on a fresh connection (a kept-alive connection closed under it before any
 * response byte); the later controller replaces the earlier one. `onResponseStartFlat`, when present,
 * replaces `onResponseStart` where the pool has the flat header list (HTTP/1.1), so no header object
 * is built. `onResponseError` gets a null controller when the request never started.
 */
export interface UpstreamHandler {
  onRequestStart?(controller: UpstreamController, context: object): void;
  onResponseStart?(controller: UpstreamController, status: number, headers: UpstreamHeaders, statusText?: string): void;
  onResponseStartFlat?(controller: UpstreamController, status: number, headers: string[]): void;
  /** A body chunk; `more` when the pool is reading the next one right now (HTTP/1.1 reads that filled their buffer). */
  onResponseData?(controller: UpstreamController, chunk: Buffer, more?: boolean): void;
  onResponseEnd?(controller: UpstreamController, trailers: UpstreamHeaders): void;
  onResponseError?(controller: UpstreamController | null, err: Error): void;
}

export interface UpstreamPool {
  readonly protocol: 'http1' | 'h2c';
  /** The backend whose events this pool reports (the latest one referencing it). */
  backendId: string;
  dispatch(req: UpstreamRequest, handler: UpstreamHandler): void;
  /** Stop taking requests, let in-flight ones finish. */
  close(): Promise<void>;
  destroy(): Promise<void>;
}

/** A flat list (lower-case names) to a header object; repeated fields become arrays. */
export function objectFromFlat(flat: string[]): UpstreamHeaders {
  const out: UpstreamHeaders = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i];
    // Own properties only: a field named `constructor` must not find Object.prototype's.
    const prev = Object.hasOwn(out, name) ? out[name] : undefined;
    if (prev === undefined) out[name] = flat[i + 1];
    else if (Array.isArray(prev)) prev.push(flat[i + 1]);
    else out[name] = [prev, flat[i + 1]];
  }
  return out;
}
