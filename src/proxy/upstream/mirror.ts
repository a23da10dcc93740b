/**
 * RequestMirror delivery: fire-and-forget copies that never slow or fail the primary. Each mirror
 * backend allows a bounded number of copies in flight (beyond it the copy is dropped and counted);
 * a copy's request body is teed from the primary's only while it keeps up; its response is discarded;
 * a copy that takes longer than the mirror timeout is aborted so hanging mirrors free their slot.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { upstreamChannel, type UpstreamEvent } from '../../snapshot/index.ts';
import type { Clock, Timer } from '../../lib/index.ts';
import type { MirrorTarget } from '../filters/index.ts';
import type { UpstreamRegistry, BackendState } from './registry.ts';
import type { Host } from './host.ts';

export const MIRROR_MAX_IN_FLIGHT = 64;
export const MIRROR_TIMEOUT_MS = 30_000;

/** What a mirror copies from the primary exchange. */
export interface MirrorSource {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: string[];
  readonly mirrors: MirrorTarget[] | null;
  /** null, a replayable Buffer, or a pipe that can tee. */
  readonly body: Buffer | { tee(sink: PassThrough): void } | null;
}

function publish(type: UpstreamEvent['type'], backend: string, endpoint: string, protocol: string): void {
  if (upstreamChannel.hasSubscribers) upstreamChannel.publish({ type, backend, endpoint, protocol } satisfies UpstreamEvent);
}

const noop = () => {};

export class Mirrorer {
  readonly #registry: UpstreamRegistry;
  readonly #clock: Clock;
  readonly #limit: number;
  readonly #timeoutMs: number;

  constructor(registry: UpstreamRegistry, clock: Clock, limit = MIRROR_MAX_IN_FLIGHT, timeoutMs = MIRROR_TIMEOUT_MS) {
    this.#registry = registry;
    this.#clock = clock;
    this.#limit = limit;
    this.#timeoutMs = timeoutMs;
  }

  send(x: MirrorSource): void {
    for (const m of x.mirrors ?? []) {
      const backend = this.#registry.get(m.backendId);
      const ep = backend?.pick(null, null);
      if (backend === undefined || ep === undefined) { publish('mirror_failed', m.backendId, '', backend?.protocol ?? ''); continue; }
      if (backend.mirrorInFlight >= this.#limit) { publish('mirror_dropped', backend.id, ep.key, ep.pool.protocol); continue; }
      let body: Buffer | Readable | null = null;
      if (Buffer.isBuffer(x.body)) body = x.body;
      else if (x.body !== null) {
        const sink = new PassThrough({ highWaterMark: 64 * 1024 });
        sink.on('error', noop);
        x.body.tee(sink);
        body = sink;
      }
      backend.mirrorInFlight++;
      const h = new MirrorHandler(backend, ep);
      h.timer = this.#clock.setTimer(this.#timeoutMs, () => h.abort());
      publish('mirror_sent', backend.id, ep.key, ep.pool.protocol);
      ep.pool.dispatch({ method: x.method, path: x.path + x.query, headers: x.headers, body }, h);
    }
  }
}

class MirrorHandler implements Dispatcher.DispatchHandler {
  readonly #backend: BackendState;
  readonly #ep: Host;
  #controller: Dispatcher.DispatchController | null = null;
  #done = false;
  timer: Timer | null = null;

  constructor(backend: BackendState, ep: Host) {
    this.#backend = backend;
    this.#ep = ep;
  }

  abort(): void {
    if (this.#done) return;
    if (this.#controller !== null) this.#controller.abort(new Error('mirror timed out'));
    else this.onResponseError(null, new Error('mirror timed out'));
  }

  #finish(failed: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.#backend.mirrorInFlight--;
    this.timer?.cancel();
    if (failed) publish('mirror_failed', this.#backend.id, this.#ep.key, this.#ep.pool.protocol);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#done) controller.abort(new Error('mirror abandoned'));
  }
  onResponseStart(): void {}
  onResponseData(): void {}
  onResponseEnd(): void { this.#finish(false); }
  onResponseError(_c: Dispatcher.DispatchController | null, _err: Error): void { this.#finish(true); }
}
