/**
 * Drives a controller-style handler (the UpstreamHandler contract) from undici's raw dispatch
 * callbacks for the HTTP/1.1 pool. One object is both undici's handler and the handler's controller,
 * and a handler that reads raw headers (`onResponseStartRaw`) gets undici's header buffers as they
 * are, so the hot path builds no header object: undici's own adapter would allocate two objects and
 * parse headers and trailers into objects on every request.
 */
import { util, type Dispatcher } from 'undici';
import type { UpstreamHandler } from './pool.ts';

type Headers = Record<string, string | string[] | undefined>;

const NO_TRAILERS: Headers = Object.freeze({}) as Headers;

export class H1Call implements Dispatcher.DispatchController {
  readonly #handler: UpstreamHandler;
  #abort: ((reason: Error) => void) | null = null;
  #resume: (() => void) | null = null;
  #paused = false;
  #aborted = false;
  #reason: Error | null = null;

  constructor(handler: UpstreamHandler) {
    this.#handler = handler;
  }

  get aborted(): boolean { return this.#aborted; }
  get paused(): boolean { return this.#paused; }
  get reason(): Error | null { return this.#reason; }

  pause(): void { this.#paused = true; }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#resume?.();
  }

  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#abort?.(reason);
  }

  // undici's dispatch handler callbacks (raw API)

  onConnect(abort: (reason: Error) => void, context: object): void {
    this.#abort = abort;
    this.#handler.onRequestStart?.(this, context);
  }

  // HOT PATH
  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    this.#resume = resume;
    const h = this.#handler;
    if (h.onResponseStartRaw !== undefined) h.onResponseStartRaw(this, status, raw);
    else h.onResponseStart?.(this, status, util.parseHeaders(raw) as Headers, statusText);
    return !this.#paused;
  }

  // HOT PATH
  onData(chunk: Buffer): boolean {
    this.#handler.onResponseData?.(this, chunk);
    return !this.#paused;
  }

  // HOT PATH
  onComplete(rawTrailers: Buffer[] | null): void {
    const trailers = rawTrailers === null || rawTrailers.length === 0 ? NO_TRAILERS : util.parseHeaders(rawTrailers) as Headers;
    this.#handler.onResponseEnd?.(this, trailers);
  }

  onError(err: Error): void {
    this.#handler.onResponseError?.(this, err);
  }
}
