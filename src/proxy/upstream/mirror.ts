/**
 * RequestMirror delivery: fire-and-forget copies that never slow or fail the primary.
 *
 * - Only GET, HEAD and OPTIONS are copied unless the mirror allows unsafe methods; other requests
 *   are counted `mirror_skipped`.
 * - A request body larger than the mirror's `maxBodyBytes` is not copied (`mirror_skipped`): known
 *   up front from Content-Length or a buffered body, or found while streaming, in which case the
 *   copy is cut off as the body passes the limit. Nothing is buffered for a copy beyond what its
 *   stream holds, and the body is teed only while the copy keeps up.
 * - Each mirror backend allows a bounded number of copies in flight (beyond it the copy is dropped
 *   and counted); a copy that takes longer than the mirror timeout is aborted so hanging mirrors
 *   free their slot.
 * - The copy carries the mirror's `host` when set, else the request's own Host.
 * - With `compare` (and someone subscribed to `mirrorChannel`), the primary's answer is captured as it
 *   streams to the client, the mirror's answer is read up to the limit instead of discarded, and for
 *   safe methods with `noise` a second copy goes to the primary backend (another endpoint when there
 *   is one, under the same in-flight bound); one MirrorSample is published when all are in.
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { mirrorChannel, upstreamChannel, type UpstreamEvent } from '../../snapshot/index.ts';
import type { Clock, Timer } from '../../lib/index.ts';
import type { MirrorTarget } from '../filters/index.ts';
import type { UpstreamRegistry, BackendState } from './registry.ts';
import type { Host } from './host.ts';
import { classify } from './errors.ts';
import type { UpstreamController, UpstreamHandler, UpstreamHeaders } from './pool.ts';
import { Comparison, ResponseCapture } from './compare.ts';

export const MIRROR_MAX_IN_FLIGHT = 64;
export const MIRROR_TIMEOUT_MS = 30_000;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A streamed request body that can feed copies (http/body.ts BodyPipe). */
export interface TeeableBody {
  /** Bytes read so far. */
  readonly bytes: number;
  tee(sink: Writable, limit: number, onOver: (() => void) | null): void;
}

/** What a mirror copies from the primary exchange. */
export interface MirrorSource {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: string[];
  readonly mirrors: MirrorTarget[] | null;
  /** null, a replayable Buffer, or a pipe that can tee. */
  readonly body: Buffer | TeeableBody | null;
  /** The request's Content-Length, -1 when unknown (chunked, HTTP/2 without it). */
  readonly head: { readonly contentLength: number };
  readonly routeId: string | null;
  readonly rule: { readonly id: string } | null;
  /** The primary backend (noise calls go there). */
  readonly backend: BackendState | null;
  /** Capture of the primary's response; created here when a compared mirror is sent. */
  capture: ResponseCapture | null;
}

/** A noise call prepared before the primary is dispatched, sent once the primary has its endpoint. */
export interface PendingCall {
  dispatch(avoid: Host | null): void;
}

function publish(type: UpstreamEvent['type'], backend: string, endpoint: string, protocol: string): void {
  if (upstreamChannel.hasSubscribers) upstreamChannel.publish({ type, backend, endpoint, protocol } satisfies UpstreamEvent);
}

const noop = () => {};

class MirrorTimeout extends Error {
  override name = 'MirrorTimeout';
  constructor() { super('mirror timed out'); }
}

function headersWithHost(headers: string[], host: string): string[] {
  const out = headers.slice();
  for (let i = 0; i < out.length; i += 2) if (out[i] === 'host') out[i + 1] = host;
  return out;
}

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

  /**
   * Sends the copies chosen for `x`. Called before the primary is dispatched (so streamed bodies can
   * be teed from their first byte); returns the noise calls to dispatch once the primary has picked
   * its endpoint, or null.
   */
  send(x: MirrorSource): PendingCall[] | null {
    let pending: PendingCall[] | null = null;
    const safe = SAFE_METHODS.has(x.method);
    for (const m of x.mirrors ?? []) {
      const backend = this.#registry.get(m.backendId);
      if (!safe && !m.allowUnsafeMethods) { publish('mirror_skipped', m.backendId, '', backend?.protocol ?? ''); continue; }
      if (knownBodySize(x) > m.maxBodyBytes) { publish('mirror_skipped', m.backendId, '', backend?.protocol ?? ''); continue; }
      const ep = backend?.pick(null, null);
      if (backend === undefined || ep === undefined) { publish('mirror_failed', m.backendId, '', backend?.protocol ?? ''); continue; }
      if (backend.mirrorInFlight >= this.#limit) { publish('mirror_dropped', backend.id, ep.key, ep.pool.protocol); continue; }

      let cmp: Comparison | null = null;
      if (m.compare !== null && mirrorChannel.hasSubscribers) {
        cmp = new Comparison({
          key: m.compare.key, ruleId: x.rule?.id ?? '', routeId: x.routeId ?? '', method: x.method, path: x.path, backend: backend.id,
        }, m.maxBodyBytes);
        const c = cmp;
        const primary = x.capture ??= new ResponseCapture(m.maxBodyBytes, this.#clock);
        primary.then((r) => c.primary(r));
        if (m.compare.noise && safe && x.backend !== null) {
          cmp.expectSecondary();
          (pending ??= []).push(this.#prepare(x, x.backend, m.maxBodyBytes, null, cmp));
        }
      }
      const h = this.#prepare(x, backend, m.maxBodyBytes, m.host, cmp);
      h.start(ep);
    }
    return pending;
  }

  /** A copy towards `backend`: its body tee and handler, ready to dispatch. */
  #prepare(x: MirrorSource, backend: BackendState, limit: number, host: string | null, cmp: Comparison | null): MirrorCall {
    const headers = host === null ? x.headers : headersWithHost(x.headers, host);
    const secondary = cmp !== null && backend === x.backend;
    const call = new MirrorCall(this, backend, { method: x.method, path: x.path + x.query, headers }, cmp, secondary, limit);
    if (Buffer.isBuffer(x.body)) call.body = x.body;
    else if (x.body !== null) {
      // Room for what was read ahead (retry buffering; already in memory) plus 64 KiB of lag.
      const sink = new PassThrough({ highWaterMark: 64 * 1024 + x.body.bytes });
      sink.on('error', noop);
      x.body.tee(sink, limit, () => call.overLimit());
      call.body = sink;
    }
    return call;
  }

  /** @internal */
  get clock(): Clock { return this.#clock; }
  /** @internal */
  get limit(): number { return this.#limit; }
  /** @internal */
  get timeoutMs(): number { return this.#timeoutMs; }
}

function knownBodySize(x: MirrorSource): number {
  if (x.body === null) return 0;
  if (Buffer.isBuffer(x.body)) return x.body.length;
  return Math.max(x.head.contentLength, x.body.bytes);
}

/** One copy (mirror, or noise call to the primary backend) and its response handling. */
class MirrorCall implements UpstreamHandler, PendingCall {
  readonly #m: Mirrorer;
  readonly #backend: BackendState;
  readonly #req: { method: string; path: string; headers: string[] };
  readonly #cmp: Comparison | null;
  readonly #secondary: boolean;
  readonly #limit: number;
  body: Buffer | Readable | null = null;
  #ep: Host | null = null;
  #capture: ResponseCapture | null = null;
  #controller: UpstreamController | null = null;
  #started = false;
  #done = false;
  #skipped = false;
  #timer: Timer | null = null;

  constructor(m: Mirrorer, backend: BackendState, req: { method: string; path: string; headers: string[] }, cmp: Comparison | null, secondary: boolean, limit: number) {
    this.#m = m;
    this.#backend = backend;
    this.#req = req;
    this.#cmp = cmp;
    this.#secondary = secondary;
    this.#limit = limit;
  }

  /** PendingCall: a noise call picks its endpoint now, away from the primary's when it can. */
  dispatch(avoid: Host | null): void {
    if (this.#skipped) {
      publish('mirror_skipped', this.#backend.id, '', this.#backend.protocol);
      this.#cmp?.abandon();
      return;
    }
    const ep = this.#backend.pick(null, avoid);
    if (ep === undefined) {
      publish('mirror_failed', this.#backend.id, '', this.#backend.protocol);
      this.#discardBody();
      this.#report(undefined, 'no_endpoints');
      return;
    }
    if (this.#backend.mirrorInFlight >= this.#m.limit) {
      publish('mirror_dropped', this.#backend.id, ep.key, ep.pool.protocol);
      this.#discardBody();
      this.#cmp?.noSecondary();
      return;
    }
    this.start(ep);
  }

  start(ep: Host): void {
    this.#ep = ep;
    this.#started = true;
    this.#backend.mirrorInFlight++;
    if (this.#cmp !== null) this.#capture = new ResponseCapture(this.#limit, this.#m.clock);
    this.#timer = this.#m.clock.setTimer(this.#m.timeoutMs, () => this.abort(new MirrorTimeout()));
    publish('mirror_sent', this.#backend.id, ep.key, ep.pool.protocol);
    ep.pool.dispatch({ ...this.#req, body: this.body }, this);
  }

  /** The streamed body passed the limit: this copy does not count as a mirror. */
  overLimit(): void {
    if (this.#done) return;
    this.#skipped = true;
    if (!this.#started) this.#discardBody();
  }

  #discardBody(): void {
    const b = this.body;
    this.body = null;
    if (b !== null && !Buffer.isBuffer(b)) b.destroy();
  }

  abort(reason: Error): void {
    if (this.#done) return;
    if (this.#controller !== null) this.#controller.abort(reason);
    else this.onResponseError(null, reason);
  }

  #finish(error: Error | null): void {
    if (this.#done) return;
    this.#done = true;
    this.#backend.mirrorInFlight--;
    this.#timer?.cancel();
    const ep = this.#ep!;
    if (this.#skipped) {
      publish('mirror_skipped', this.#backend.id, ep.key, ep.pool.protocol);
      // Both copies of a compared request share the body and its limit: neither is compared.
      this.#capture = null;
      this.#cmp?.abandon();
      return;
    }
    if (error !== null) publish('mirror_failed', this.#backend.id, ep.key, ep.pool.protocol);
    this.#report(this.#capture ?? undefined, error === null ? undefined : errorName(error));
  }

  /** Hands this copy's answer (or failure) to the comparison. */
  #report(capture: ResponseCapture | undefined, error: string | undefined): void {
    const cmp = this.#cmp;
    if (cmp === null) return;
    const c = capture ?? new ResponseCapture(0, this.#m.clock);
    c.end(error);
    c.then((r) => { if (this.#secondary) cmp.secondary(r); else cmp.candidate(r); });
  }

  onRequestStart(controller: UpstreamController): void {
    this.#controller = controller;
    if (this.#done) controller.abort(new Error('mirror abandoned'));
  }
  onResponseStart(_c: UpstreamController, status: number, headers: UpstreamHeaders): void {
    this.#capture?.start(status, headers);
  }
  onResponseData(_c: UpstreamController, chunk: Buffer): void {
    this.#capture?.data(chunk);
  }
  onResponseEnd(): void { this.#finish(null); }
  onResponseError(_c: UpstreamController | null, err: Error): void { this.#finish(err); }
}

/** The RequestRecord error vocabulary for a copy that got no complete answer. */
function errorName(err: Error): string {
  if (err instanceof MirrorTimeout) return 'upstream_timeout';
  const kind = classify(err);
  return kind === 'connect' ? 'upstream_connect_failure' : kind === 'timeout' ? 'upstream_timeout' : 'upstream_reset';
}
