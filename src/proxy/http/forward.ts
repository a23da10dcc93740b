/**
 * Forwarding one exchange upstream: body handling (streamed, or buffered up to 64 KiB when retries
 * are possible), the backend's circuit breaker (admit, wait for a connection, or answer 503
 * `upstream overflow`), attempts with per-attempt and whole-request timeouts, retries (the rule's
 * policy, else the backend's) with jittered backoff on another endpoint, outlier reporting, and the
 * response relay with backpressure. Each attempt is a small controller-style UpstreamHandler; a stale
 * attempt's callbacks are ignored.
 *
 * Per attempt the bookkeeping is two counters up and down (the endpoint's and the backend's
 * attempts in flight); outlier detection adds a counter update per response only when it is on.
 */
import { upstreamChannel, type UpstreamEvent } from '../../snapshot/index.ts';
import type { Timer } from '../../lib/index.ts';
import type { Host } from '../upstream/host.ts';
import { ADMIT_OVERFLOW, ADMIT_RUN, type Waiter } from '../upstream/breaker.ts';
import { AttemptTimeout, RequestAborted, RetryStatus, classify, type FailureKind } from '../upstream/errors.ts';
import type { Exchange } from './exchange.ts';
import { BodyPipe, bufferBody } from './body.ts';
import { objectFromFlat, type UpstreamController, type UpstreamHandler, type UpstreamHeaders } from '../upstream/pool.ts';
import { isIdempotent } from '../upstream/retry-policy.ts';
import { flatFromObject, flatGet, responseHeaders, wantsTrailers } from './response-headers.ts';

type Controller = UpstreamController;
type Headers = UpstreamHeaders;

const RETRY_BUFFER_LIMIT = 64 * 1024;

function publish(type: UpstreamEvent['type'], x: Exchange, ep: Host): void {
  if (upstreamChannel.hasSubscribers) {
    upstreamChannel.publish({ type, backend: x.backend?.id ?? '', endpoint: ep.key, protocol: ep.pool.protocol } satisfies UpstreamEvent);
  }
}

export interface AttemptState {
  readonly controller: Controller | null;
  abort(reason: Error): void;
}

// HOT PATH
export function startForwarding(x: Exchange): void {
  const rule = x.rule!;
  const retry = rule.retry ?? x.backend!.retry;
  x.retry = retry;
  x.perTryMs = rule.backendRequestMs > 0 ? rule.backendRequestMs : rule.retry === null && retry !== null ? retry.perTryTimeoutMs : 0;
  if (rule.requestMs > 0) x.requestTimer = x.sc.core.clock.setTimer(rule.requestMs, () => onRequestTimeout(x));
  if (!x.hasBody) return go(x);
  if (retry === null) {
    x.body = new BodyPipe(x.down.body, null);
    return go(x);
  }
  bufferBody(x.down.body, RETRY_BUFFER_LIMIT).then((b) => {
    if (x.finished) return;
    if (b.complete) { x.body = b.body; x.bytesIn = b.body.length; } else x.body = new BodyPipe(x.down.body, b.prefix);
    go(x);
  }, () => {
    x.error = 'client_aborted';
    x.finish();
  });
}

function go(x: Exchange): void {
  if (x.mirrors === null) return attempt(x, null);
  // Copies are set up first so a streamed body is teed from its first byte; noise calls to the
  // primary backend go once the primary has its endpoint, so they can go to another one.
  const pending = x.sc.core.mirror.send(x);
  if (x.body instanceof BodyPipe) x.body.forgetPrefix();
  attempt(x, null);
  if (pending !== null) for (const p of pending) p.dispatch(x.endpoint);
}

// HOT PATH
function attempt(x: Exchange, avoid: Host | null): void {
  const backend = x.backend!;
  const ep = backend.pick(x, avoid);
  if (ep === undefined) return x.localReply(503, 'no healthy upstream', 'no_endpoints');
  const admit = backend.breaker.admit();
  if (admit === ADMIT_RUN) return dispatch(x, ep);
  if (admit === ADMIT_OVERFLOW) {
    publish('overflow', x, ep);
    return x.localReply(503, 'upstream overflow', 'overflow');
  }
  const q = new Queued(x, ep);
  x.attempt = q;
  backend.breaker.wait(q);
}

// HOT PATH
function dispatch(x: Exchange, ep: Host): void {
  x.endpoint = ep;
  x.attempts++;
  ep.active++;
  x.backend!.breaker.running++;
  const a = new Attempt(x, ep);
  x.attempt = a;
  const ms = x.perTryMs;
  if (ms > 0) a.timer = x.sc.core.clock.setTimer(ms, () => a.abort(new AttemptTimeout()));
  const body = x.body;
  ep.pool.dispatch({ method: x.method, path: x.path + x.query, headers: x.headers, body }, a);
}

/** An attempt waiting for an HTTP/1.1 connection slot of its backend (maxConnections). */
class Queued implements Waiter, AttemptState {
  readonly controller = null;
  readonly x: Exchange;
  readonly ep: Host;
  cancelled = false;

  constructor(x: Exchange, ep: Host) {
    this.x = x;
    this.ep = ep;
  }

  start(): boolean {
    if (this.cancelled) return false;
    this.cancelled = true;
    this.x.backend!.breaker.waiting--;
    dispatch(this.x, this.ep);
    return true;
  }

  abort(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.x.backend!.breaker.cancelled();
  }
}

function canRetry(x: Exchange, kind: FailureKind): boolean {
  const p = x.retry;
  if (p === null || x.attempts > p.attempts) return false;
  if (x.finished || x.down.headersSent) return false;
  if (x.body instanceof BodyPipe) return false;
  if (kind === 'connect') { if (!p.onConnect) return false; }
  else if (kind === 'reset') { if (!p.onReset) return false; }
  else if (kind === 'timeout') { if (!p.onTimeout) return false; }
  if (kind !== 'connect' && !p.nonIdempotent && !isIdempotent(x.method)) return false;
  // A retry budget, when the policy has one, replaces the maxRetries breaker (as in Envoy).
  const br = x.backend!.breaker;
  const limit = p.budgetPercent >= 0 ? Math.max(p.budgetMin, (p.budgetPercent * br.running) / 100) : br.spec.maxRetries;
  return br.retries < limit;
}

function retry(x: Exchange, failed: Host): void {
  publish('retry', x, failed);
  x.backend!.breaker.retries++;
  x.retryHeld = true;
  const p = x.retry!;
  const base = p.backoffMs * 2 ** (x.attempts - 1);
  const delay = base / 2 + x.sc.core.random() * (base / 2);
  if (delay <= 0) return attempt(x, failed);
  x.sc.core.clock.setTimer(delay, () => { if (!x.finished) attempt(x, failed); });
}

function onRequestTimeout(x: Exchange): void {
  x.requestTimer = null;
  if (x.finished) return;
  x.attempt?.abort(new RequestAborted('request timeout'));
  if (x.down.headersSent) {
    x.error = 'request_timeout';
    x.down.abort();
    x.finish();
  } else {
    x.localReply(504, 'upstream request timeout', 'request_timeout');
  }
}

/** The client went away: stop the upstream side. */
export function abortForwarding(x: Exchange): void {
  x.attempt?.abort(new RequestAborted('client aborted'));
  if (x.body instanceof BodyPipe) x.body.destroy();
}

/**
 * Content-Length of an HTTP/1.1 upstream response relayed to an HTTP/1.1 client, or -1. Such a
 * response has no trailers, so its last chunk can end the downstream response in one write.
 */
function endsWithLastChunk(ep: Host, x: Exchange, headers: string[]): number {
  if (ep.pool.protocol !== 'http1' || x.down.protocol !== 'HTTP/1.1' || x.method === 'HEAD') return -1;
  const cl = flatGet(headers, 'content-length');
  if (typeof cl !== 'string') return -1;
  const n = Number(cl);
  return Number.isSafeInteger(n) && n > 0 ? n : -1;
}

class Attempt implements UpstreamHandler, AttemptState {
  readonly x: Exchange;
  readonly ep: Host;
  controller: Controller | null = null;
  timer: Timer | null = null;
  done = false;
  reason: Error | null = null;
  readonly started: number;
  deferred: string[] | null = null;
  /** Body bytes still to come when the whole response can end with its last chunk (see onResponseData); -1 otherwise. */
  remaining = -1;
  /** This attempt is a retry and holds one of the backend's retry slots. */
  readonly holdsRetry: boolean;

  constructor(x: Exchange, ep: Host) {
    this.x = x;
    this.ep = ep;
    this.started = x.sc.core.clock.monotonic();
    this.holdsRetry = x.retryHeld;
    x.retryHeld = false;
  }

  /** The attempt is over for us: timers and in-flight counters. */
  // HOT PATH
  #end(): void {
    this.done = true;
    this.controller = null;
    if (this.timer !== null) { this.timer.cancel(); this.timer = null; }
    this.ep.active--;
    const br = this.x.backend!.breaker;
    if (this.holdsRetry) br.retries--;
    br.release();
  }

  abort(reason: Error): void {
    if (this.done) return;
    if (this.controller !== null) { this.controller.abort(reason); return; }
    this.reason = reason;
    this.onResponseError(null, reason);
  }

  #clearTimer(): void {
    if (this.timer !== null) { this.timer.cancel(); this.timer = null; }
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.done) controller.abort(this.reason ?? new RequestAborted('attempt abandoned'));
  }

  /** HTTP/2 upstreams (and any pool without a flat header list). */
  onResponseStart(controller: Controller, status: number, headers: Headers): void {
    this.#start(controller, status, flatFromObject(headers), headers);
  }

  // HOT PATH: HTTP/1.1 upstreams; no header object is built unless a mirror comparison captures it.
  onResponseStartFlat(controller: Controller, status: number, headers: string[]): void {
    this.#start(controller, status, headers, null);
  }

  // HOT PATH
  #start(controller: Controller, status: number, headers: string[], object: Headers | null): void {
    if (this.done) return;
    const x = this.x;
    const od = x.backend!.outlier;
    if (od !== null) od.response(this.ep, status);
    const p = x.retry;
    if (p !== null && p.statuses[status] === 1 && canRetry(x, 'status')) { controller.abort(new RetryStatus(status)); return; }
    this.#clearTimer();
    x.upstreamMs = x.sc.core.clock.monotonic() - this.started;
    x.status = status;
    if (x.capture !== null) x.capture.start(status, object ?? objectFromFlat(headers));
    const out = responseHeaders(headers, x);
    const grpcStatus = flatGet(headers, 'grpc-status');
    if (grpcStatus !== undefined) {
      // Possibly a trailers-only response: hold the headers until we know whether a body follows.
      this.deferred = out;
      x.grpcStatus = grpcStatus;
      return;
    }
    x.down.respond(status, out, false, wantsTrailers(headers, x));
    this.remaining = endsWithLastChunk(this.ep, x, headers);
  }

  // HOT PATH
  onResponseData(controller: Controller, chunk: Buffer, more = false): void {
    if (this.done) return;
    const x = this.x;
    if (this.deferred !== null) { x.down.respond(x.status, this.deferred, false, true); this.deferred = null; }
    x.bytesOut += chunk.length;
    if (x.capture !== null) x.capture.data(chunk);
    if (this.remaining > 0 && (this.remaining -= chunk.length) === 0) return this.#endWith(chunk);
    if (!x.down.write(chunk, more)) controller.pause();
  }

  /** The last body chunk: the response ends here (the pool's onResponseEnd follows and is ignored). */
  #endWith(chunk: Buffer): void {
    this.#end();
    this.x.down.endWith(chunk);
    this.x.finish();
  }

  onResponseEnd(_controller: Controller, trailers: Headers): void {
    if (this.done) return;
    this.#end();
    const x = this.x;
    if (this.deferred !== null) {
      x.down.respond(x.status, this.deferred, true, false);
    } else {
      let any = false;
      for (const _ in trailers) { any = true; break; }
      if (any && trailers['grpc-status'] !== undefined) x.grpcStatus = String(trailers['grpc-status']);
      x.down.end(any ? trailers : null);
    }
    x.finish();
  }

  onResponseError(_controller: Controller | null, err: Error): void {
    if (this.done) return;
    this.#end();
    const x = this.x;
    if (err instanceof RequestAborted) return;
    const kind = classify(err);
    if (kind !== 'status') x.backend!.outlier?.failure(this.ep, kind === 'connect');
    if (x.finished) return;
    if (kind === 'timeout') publish('timeout', x, this.ep);
    else if (kind === 'reset') publish('reset', x, this.ep);
    if (x.down.headersSent) {
      x.error = 'upstream_reset';
      x.down.abort();
      x.finish();
      return;
    }
    if (canRetry(x, kind)) return retry(x, this.ep);
    if (kind === 'timeout') x.localReply(504, 'upstream request timeout', 'upstream_timeout');
    else if (kind === 'connect') x.localReply(502, 'upstream connect error', 'upstream_connect_failure');
    else x.localReply(502, 'upstream reset', 'upstream_reset');
  }
}
