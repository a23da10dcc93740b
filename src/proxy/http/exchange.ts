/**
 * One downstream request from arrival to the choice of an upstream: host and path normalisation,
 * listener → virtual host → route, filters, weighted backend choice, Ferry's forwarding headers, then
 * hands over to forward.ts. It also answers locally (404/400/500/503) and accounts for the request
 * (in-flight count for drain, one RequestRecord).
 */
import { requestChannel, type RequestRecord } from '../../snapshot/index.ts';
import type { FilterContext, MirrorTarget, ResponseFilter } from '../filters/index.ts';
import type { MatchInput } from '../route/route-table.ts';
import { canonicalHost } from '../route/host.ts';
import { normalizeTarget } from '../route/normalize-path.ts';
import { chooseShare, type BackendShare, type CompiledRule } from '../config/rule.ts';
import type { ListenerRuntime } from '../config/socket-runtime.ts';
import type { BackendState } from '../upstream/registry.ts';
import type { Host } from '../upstream/host.ts';
import type { HashRequest } from '../upstream/hash-key.ts';
import type { RetryPolicy } from '../upstream/retry-policy.ts';
import type { ResponseCapture } from '../upstream/compare.ts';
import { NO_HASH } from '../upstream/balancer.ts';
import type { Timer } from '../../lib/index.ts';
import type { Downstream, DownstreamListener } from './downstream.ts';
import type { SocketContext } from './context.ts';
import { appendForwarding, emptyHead, scanRequestHeaders, type RequestHead } from './request-headers.ts';
import { newRequestId } from './request-id.ts';
import { BodyPipe } from './body.ts';
import { startForwarding, abortForwarding, type AttemptState } from './forward.ts';

const NO_FILTERS: readonly ResponseFilter[] = [];

export class Exchange implements FilterContext, MatchInput, DownstreamListener, HashRequest {
  readonly sc: SocketContext;
  readonly down: Downstream;
  readonly method: string;
  readonly target: string;
  readonly clientAddress: string;
  readonly startTime: number;
  /** `clock.monotonic()` when the request arrived: durations are measured from it. */
  readonly startedAt: number;
  readonly head: RequestHead = emptyHead();
  headers: string[] = [];
  path = '/';
  query = '';
  host = '';
  forwardHost: string | null = null;
  matchedPrefix: string | null = null;
  scheme: 'http' | 'https' = 'http';
  listenerPort = 0;
  mirrors: MirrorTarget[] | null = null;
  requestId = '';
  listener: ListenerRuntime | null = null;
  routeId: string | null = null;
  rule: CompiledRule | null = null;
  share: BackendShare | null = null;
  backend: BackendState | null = null;
  endpoint: Host | null = null;
  /** The retry policy in force (the rule's, else the backend's), set when forwarding starts. */
  retry: RetryPolicy | null = null;
  /** Per-attempt timeout in force; 0 = none. */
  perTryMs = 0;
  /** A retry has been decided and holds a retry slot of the backend until its attempt ends. */
  retryHeld = false;
  /** Hash key cache and Set-Cookie values for hash-based balancing (HashRequest). */
  hashSig: string | null = null;
  hashValue = NO_HASH;
  setCookies: string[] | null = null;
  responseFilters: readonly ResponseFilter[] = NO_FILTERS;
  shareResponseFilters: readonly ResponseFilter[] = NO_FILTERS;
  hasBody = false;
  status = 0;
  grpcStatus: string | undefined = undefined;
  bytesIn = 0;
  bytesOut = 0;
  attempts = 0;
  upstreamMs: number | null = null;
  error: string | undefined = undefined;
  finished = false;
  closed = false;
  /** A tunnel (WebSocket) whose end by the client is normal, not an abort. */
  longLived = false;
  requestTimer: Timer | null = null;
  attempt: AttemptState | null = null;
  /** The primary's response as captured for a compared mirror; null unless one was sent. */
  capture: ResponseCapture | null = null;
  /** Body sent upstream: null (none), a replayable Buffer, or a one-shot pipe. */
  body: Buffer | BodyPipe | null = null;
  /** What happens once a route and backend are chosen: forwarding, or a WebSocket tunnel. */
  onRouted: (x: Exchange) => void = startForwarding;

  constructor(sc: SocketContext, down: Downstream, method: string, target: string, clientAddress: string | undefined) {
    this.sc = sc;
    this.down = down;
    this.method = method;
    this.target = target;
    this.clientAddress = clientAddress ?? '';
    this.startTime = sc.core.clock.now();
    this.startedAt = sc.core.clock.monotonic();
    sc.inflight++;
    down.listen(this);
  }

  // HOT PATH: the whole request-side pipeline.
  run(rawHeaders: string[], h2EndStream: boolean | null, http10: boolean): void {
    const sc = this.sc;
    const runtime = sc.runtime; // the snapshot is read once per request
    const head = this.head;
    scanRequestHeaders(rawHeaders, this.headers, head);
    this.requestId = head.requestId ?? newRequestId();
    this.hasBody = h2EndStream === null ? head.contentLength > 0 || head.transferEncoding : !h2EndStream;
    if (head.hostCount > 1) return this.reply400('duplicate Host header');
    if (http10 && head.transferEncoding) { this.down.closeAfter(); return this.reply400('Transfer-Encoding is not allowed on HTTP/1.0'); }
    const t = normalizeTarget(this.target, sc.core.policy);
    if (t === null) return this.reply400('invalid request target');
    this.path = t.path;
    this.query = t.query;
    const hostValue = t.authority ?? head.hostValue;
    if (hostValue === null || hostValue.length === 0) return this.reply400('missing Host header');
    this.host = canonicalHost(hostValue);

    const listener = runtime.listeners.find(this.host);
    if (listener === undefined) return this.noRoute();
    this.listener = listener;
    this.scheme = listener.scheme;
    this.listenerPort = listener.spec.port;
    const vhost = listener.vhosts.find(this.host);
    if (vhost === undefined) return this.noRoute();
    const route = vhost.table.find(this);
    if (route === undefined) return this.noRoute();
    this.routeId = route.entry.routeId;
    this.matchedPrefix = route.prefix;
    const rule = route.rule;
    if (rule === null) return this.localReply(500, 'route rule is missing from the configuration', 'invalid_backend');
    this.rule = rule;
    this.responseFilters = rule.filters.response;

    const rf = rule.filters.request;
    for (let i = 0; i < rf.length; i++) if (rf[i].onRequest(this)) return;

    const share = chooseShare(rule, sc.core.random, this);
    if (share === undefined) return this.localReply(500, 'no backends configured for this route', 'invalid_backend');
    this.share = share;
    if (share.backendId === null) return this.localReply(500, `invalid backendRef: ${share.invalidReason}`, 'invalid_backend');
    this.shareResponseFilters = share.filters.response;
    const bf = share.filters.request;
    for (let i = 0; i < bf.length; i++) if (bf[i].onRequest(this)) return;

    const backend = sc.core.registry.get(share.backendId);
    if (backend === undefined || backend.ready.length === 0) return this.localReply(503, 'no healthy upstream', 'no_endpoints');
    this.backend = backend;

    appendForwarding(this.headers, {
      host: this.forwardHost ?? hostValue,
      clientAddress: this.clientAddress,
      proto: listener.scheme,
      originalHost: hostValue,
      port: listener.portText,
      requestId: this.requestId,
      via: head.via === null ? this.viaSelf() : `${head.via}, ${this.viaSelf()}`,
    });
    this.onRouted(this);
  }

  viaSelf(): string {
    return this.down.protocol === 'HTTP/2' ? '2 ferry' : '1.1 ferry';
  }

  noRoute(): void {
    this.localReply(404, 'no route', 'no_route');
  }

  reply400(why: string): void {
    this.localReply(400, why, 'bad_request');
  }

  /** FilterContext.reply: a filter (redirect) answers the request. */
  reply(status: number, headers: string[], body: string): void {
    this.error = 'redirect';
    this.send(status, headers, body);
  }

  localReply(status: number, body: string, error: string): void {
    this.error = error;
    this.send(status, ['content-type', 'text/plain; charset=utf-8'], body);
  }

  send(status: number, headers: string[], body: string): void {
    if (this.closed) return this.finish();
    if (this.down.headersSent) { this.down.abort(); return this.finish(); }
    this.status = status;
    const buf = body.length > 0 && this.method !== 'HEAD' ? Buffer.from(body + '\n') : null;
    headers.push('content-length', String(buf === null ? 0 : buf.length), 'x-request-id', this.requestId);
    for (const f of this.responseFilters) f.onResponse(headers);
    this.down.respond(status, headers, buf === null, false);
    if (buf !== null) {
      this.bytesOut += buf.length;
      this.down.write(buf);
      this.down.end(null);
    }
    this.finish();
  }

  onDownstreamDrain(): void {
    this.attempt?.controller?.resume();
  }

  onDownstreamClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.finished) {
      if (!this.longLived) this.error ??= 'client_aborted';
      abortForwarding(this);
      this.finish();
    }
    const sc = this.sc;
    sc.inflight--;
    if (sc.inflight === 0 && sc.draining) sc.onIdle();
  }

  /** Accounts for the request once: timers, and the RequestRecord when someone listens. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.requestTimer !== null) { this.requestTimer.cancel(); this.requestTimer = null; }
    if (this.retryHeld) { this.retryHeld = false; this.backend!.breaker.retries--; }
    if (this.capture !== null) this.capture.end(this.error);
    if (!requestChannel.hasSubscribers) return;
    if (this.body instanceof BodyPipe) this.bytesIn = this.body.bytes;
    const l = this.listener;
    requestChannel.publish({
      startTime: this.startTime,
      gateway: l?.gateway ?? '',
      listener: l?.id ?? '',
      route: this.routeId,
      rule: this.rule?.id ?? null,
      backend: this.share?.backendId ?? null,
      endpoint: this.endpoint?.key ?? null,
      method: this.method,
      path: this.path,
      host: this.host,
      protocol: this.down.protocol,
      status: this.status,
      grpcStatus: this.grpcStatus,
      durationMs: this.sc.core.clock.monotonic() - this.startedAt,
      upstreamMs: this.upstreamMs,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      requestId: this.requestId,
      clientAddress: this.clientAddress,
      error: this.error,
      attempts: this.attempts,
      endpointLabels: this.endpoint?.labels ?? null,
    } satisfies RequestRecord);
  }
}
