/**
 * Forwarding one exchange upstream: body handling (streamed, or buffered up to 64 KiB when the rule
 * retries), attempts with per-attempt and whole-request timeouts, retries with jittered backoff on
 * another endpoint, and the response relay with backpressure. Each attempt is a small undici
 * controller-style handler; a stale attempt's callbacks are ignored.
 */
import type { Dispatcher } from 'undici';
import { upstreamChannel, type UpstreamEvent } from '../../snapshot/index.ts';
import type { Timer } from '../../lib/index.ts';
import type { EndpointTarget } from '../upstream/balancer.ts';
import { AttemptTimeout, RequestAborted, RetryStatus, classify, type FailureKind } from '../upstream/errors.ts';
import type { Exchange } from './exchange.ts';
import { BodyPipe, bufferBody } from './body.ts';
import { responseHeaders, wantsTrailers } from './response-headers.ts';

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

const RETRY_BUFFER_LIMIT = 64 * 1024;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

function publish(type: UpstreamEvent['type'], x: Exchange, ep: EndpointTarget): void {
  if (upstreamChannel.hasSubscribers) {
    upstreamChannel.publish({ type, backend: x.backend?.id ?? '', endpoint: ep.key, protocol: ep.pool.protocol } satisfies UpstreamEvent);
  }
}

export interface AttemptState {
  readonly controller: Controller | null;
}

// HOT PATH
export function startForwarding(x: Exchange): void {
  const rule = x.rule!;
  if (rule.requestMs > 0) x.requestTimer = x.sc.core.clock.setTimer(rule.requestMs, () => onRequestTimeout(x));
  if (!x.hasBody) return go(x);
  if (rule.retry === null) {
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
  if (x.mirrors !== null) x.sc.core.mirror.send(x);
  attempt(x, null);
}

// HOT PATH
function attempt(x: Exchange, avoid: EndpointTarget | null): void {
  const backend = x.backend!;
  const ep = backend.balancer.pick(backend.ready, avoid);
  if (ep === undefined) return x.localReply(503, 'no healthy upstream', 'no_endpoints');
  x.endpoint = ep;
  x.attempts++;
  const a = new Attempt(x, ep);
  x.attempt = a;
  const ms = x.rule!.backendRequestMs;
  if (ms > 0) a.timer = x.sc.core.clock.setTimer(ms, () => a.abort(new AttemptTimeout()));
  const body = x.body;
  ep.pool.dispatch({ method: x.method, path: x.path + x.query, headers: x.headers, body }, a);
}

function canRetry(x: Exchange, kind: FailureKind): boolean {
  const r = x.rule!.retry;
  if (r === null || x.attempts > r.attempts) return false;
  if (x.finished || x.down.headersSent) return false;
  if (x.body instanceof BodyPipe) return false;
  return kind === 'connect' || IDEMPOTENT.has(x.method);
}

function retry(x: Exchange, failed: EndpointTarget): void {
  publish('retry', x, failed);
  const r = x.rule!.retry!;
  const base = r.backoffMs * 2 ** (x.attempts - 1);
  const delay = base / 2 + x.sc.core.random() * (base / 2);
  if (delay <= 0) return attempt(x, failed);
  x.sc.core.clock.setTimer(delay, () => { if (!x.finished) attempt(x, failed); });
}

function onRequestTimeout(x: Exchange): void {
  x.requestTimer = null;
  if (x.finished) return;
  const a = x.attempt as Attempt | null;
  a?.abort(new RequestAborted('request timeout'));
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
  (x.attempt as Attempt | null)?.abort(new RequestAborted('client aborted'));
  if (x.body instanceof BodyPipe) x.body.destroy();
}

class Attempt implements Dispatcher.DispatchHandler, AttemptState {
  readonly x: Exchange;
  readonly ep: EndpointTarget;
  controller: Controller | null = null;
  timer: Timer | null = null;
  done = false;
  reason: Error | null = null;
  readonly started: number;
  deferred: string[] | null = null;

  constructor(x: Exchange, ep: EndpointTarget) {
    this.x = x;
    this.ep = ep;
    this.started = x.sc.core.clock.now();
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

  // HOT PATH
  onResponseStart(controller: Controller, status: number, headers: Headers): void {
    if (this.done) return;
    const x = this.x;
    if (x.rule!.retryCodes.has(status) && canRetry(x, 'status')) { controller.abort(new RetryStatus(status)); return; }
    this.#clearTimer();
    x.upstreamMs = x.sc.core.clock.now() - this.started;
    x.status = status;
    const out = responseHeaders(headers, x);
    if (headers['grpc-status'] !== undefined) {
      // Possibly a trailers-only response: hold the headers until we know whether a body follows.
      this.deferred = out;
      x.grpcStatus = String(headers['grpc-status']);
      return;
    }
    x.down.respond(status, out, false, wantsTrailers(headers, x));
  }

  // HOT PATH
  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.done) return;
    const x = this.x;
    if (this.deferred !== null) { x.down.respond(x.status, this.deferred, false, true); this.deferred = null; }
    x.bytesOut += chunk.length;
    if (!x.down.write(chunk)) controller.pause();
  }

  onResponseEnd(_controller: Controller, trailers: Headers): void {
    if (this.done) return;
    this.done = true;
    this.#clearTimer();
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
    this.done = true;
    this.#clearTimer();
    const x = this.x;
    if (err instanceof RequestAborted || x.finished) return;
    const kind = classify(err);
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
