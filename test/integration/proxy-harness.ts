/**
 * Test harness for the data-plane suites: hand-built Snapshots, a recording echo upstream, a small
 * HTTP/1.1 client, a proxy started on port 0, polling with a deadline and throwaway certificates.
 */
import {
  DEFAULT_BACKEND_POLICY, mirrorChannel, requestChannel, upstreamChannel,
  type BackendRetrySpec, type MirrorSample, type RequestRecord, type UpstreamEvent,
} from '../../src/snapshot/index.ts';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createProxy, type Proxy, type ProxyOptions } from '../../src/proxy/index.ts';
import type { Clock, Timer } from '../../src/lib/index.ts';
import type {
  BackendPolicy, BackendSpec, Endpoint, FilterSpec, PathMatch, RequestMirrorFilter, RetrySpec, RouteEntry, RuleSpec, Snapshot, StickySplit,
  Timeouts, TlsSpec, ValueMatch,
} from '../../src/snapshot/index.ts';

export interface RouteDef {
  path?: PathMatch;
  method?: string;
  headers?: ValueMatch[];
  query?: ValueMatch[];
  filters?: FilterSpec[];
  backends?: { id: string | null; weight?: number; filters?: FilterSpec[]; invalidReason?: string }[];
  timeouts?: Timeouts;
  retry?: RetrySpec;
  sticky?: StickySplit;
  /** Virtual host name; default `*`. */
  vhost?: string;
}

export interface SnapshotDef {
  routes: RouteDef[];
  backends?: Record<string, 'http1' | 'h2c'>;
  /** Per-backend policy fields over DEFAULT_BACKEND_POLICY. */
  policies?: Record<string, Partial<BackendPolicy>>;
  key?: string;
  protocol?: 'HTTP' | 'HTTPS';
  listenerPort?: number;
  listenerHostname?: string;
  tls?: TlsSpec;
  /** Added to the hash so two otherwise equal snapshots differ. */
  version?: number;
}

export function buildSnapshot(def: SnapshotDef): Snapshot {
  const rules: Record<string, RuleSpec> = {};
  const vhosts = new Map<string, RouteEntry[]>();
  def.routes.forEach((r, i) => {
    const ruleId = `HTTPRoute/default/r${i}/rule/0`;
    rules[ruleId] = {
      id: ruleId, routeId: `HTTPRoute/default/r${i}`, kind: 'HTTPRoute', ruleIndex: 0,
      filters: r.filters ?? [],
      backends: (r.backends ?? [{ id: 'b' }]).map((b) => ({ backendId: b.id, weight: b.weight ?? 1, filters: b.filters ?? [], invalidReason: b.invalidReason })),
      timeouts: r.timeouts, retry: r.retry, sticky: r.sticky,
    };
    const host = r.vhost ?? '*';
    const list = vhosts.get(host) ?? [];
    list.push({
      routeId: `HTTPRoute/default/r${i}`, kind: 'HTTPRoute', ruleId, matchIndex: 0,
      match: { path: r.path, method: r.method, headers: r.headers ?? [], queryParams: r.query ?? [] },
    });
    vhosts.set(host, list);
  });
  const backends: Record<string, BackendSpec> = {};
  for (const [id, protocol] of Object.entries(def.backends ?? { b: 'http1' as const })) {
    backends[id] = { id, kind: 'Service', namespace: 'default', name: id, port: 80, protocol, policy: { ...DEFAULT_BACKEND_POLICY, ...def.policies?.[id] } };
  }
  const protocol = def.protocol ?? 'HTTP';
  const key = def.key ?? '127.0.0.1:0';
  return {
    hash: `test-${def.version ?? 0}-${Math.random()}`,
    sockets: [{
      key, bindHost: key.split(':')[0], bindPort: Number(key.split(':')[1]), protocol,
      listeners: [{
        id: 'default/gw/l', gatewayNamespace: 'default', gatewayName: 'gw', name: 'l',
        hostname: def.listenerHostname, port: def.listenerPort ?? 8080, protocol, tls: def.tls,
        virtualHosts: [...vhosts].map(([hostname, routes]) => ({ hostname, routes })),
      }],
    }],
    rules,
    backends,
  };
}

export function endpoints(map: Record<string, number[]>, ready = true): Map<string, Endpoint[]> {
  return new Map(Object.entries(map).map(([id, ports]) => [id, ports.map((port) => ({ address: '127.0.0.1', port, ready, labels: {} }))]));
}

export interface EndpointDef {
  port: number;
  weight?: number;
  labels?: Record<string, string>;
  ready?: boolean;
}

/** Endpoint sets with weights, labels and readiness. */
export function endpointSets(map: Record<string, EndpointDef[]>): Map<string, Endpoint[]> {
  return new Map(Object.entries(map).map(([id, eps]) => [id, eps.map((e) => ({
    address: '127.0.0.1', port: e.port, ready: e.ready ?? true, weight: e.weight, labels: e.labels ?? {},
  }))]));
}

/** A clock the test moves by hand: timers fire only in advance(). */
export interface ManualClock extends Clock {
  advance(ms: number): void;
}

export function manualClock(start = 1_000_000): ManualClock {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    monotonic: () => now,
    setTimer(ms: number, fn: () => void): Timer {
      const id = ++seq;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return { cancel: () => { timers.delete(id); } };
    },
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const e of timers) if (e[1].at <= until && (next === undefined || e[1].at < next[1].at)) next = e;
        if (next === undefined) break;
        timers.delete(next[0]);
        now = Math.max(now, next[1].at);
        next[1].fn();
      }
      now = until;
    },
  };
}

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

export interface Upstream {
  port: number;
  seen: Seen[];
  server: http.Server;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/** An HTTP/1.1 upstream that records every request and answers with its JSON (or `handler`). */
export async function echoUpstream(t: TestContext, handler?: Handler): Promise<Upstream> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body };
      seen.push(s);
      if (handler) return handler(req, res, body);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(s));
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { server.closeAllConnections(); server.close(); });
  return { port: (server.address() as AddressInfo).port, seen, server };
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

export function request(port: number, opts: { path?: string; method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; agent?: http.Agent | false; setHost?: boolean } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: opts.path ?? '/', method: opts.method ?? 'GET', headers: opts.headers,
      agent: opts.agent ?? agent, setHost: opts.setHost,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Sends raw bytes and returns everything the proxy answered until it closed or `until` matched. */
export async function rawRequest(port: number, data: string, until: RegExp = /\r\n\r\n[\s\S]*$/): Promise<string> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(data));
    let got = '';
    s.on('data', (d) => { got += d.toString('latin1'); if (until.test(got) && /\r\n\r\n/.test(got)) { s.destroy(); resolve(got); } });
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

export async function startProxy(t: TestContext, snapshot: Snapshot, eps: Map<string, Endpoint[]>, options?: ProxyOptions): Promise<{ proxy: Proxy; port: number }> {
  const proxy = createProxy(options);
  proxy.setEndpoints(eps);
  const result = await proxy.apply(snapshot);
  if (result.errors.length > 0) throw new Error(JSON.stringify(result.errors));
  t.after(() => proxy.drain(0));
  return { proxy, port: result.bound[0].port };
}

export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== false) return v;
      last = new Error('condition returned false');
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw last;
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Cert { certPem: string; keyPem: string }

/** A self-signed ECDSA certificate for `names` (first is the CN), made with openssl. */
export function selfSigned(names: string[]): Cert {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-proxy-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { certPem: readFileSync(join(dir, 'cert.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An HTTP/1.1 upstream answering its name, with a switchable `/healthz`, that can be stopped and restarted on its port. */
export interface NamedUpstream {
  readonly name: string;
  port: number;
  /** What `/healthz` answers. */
  healthStatus: number;
  /** What other paths answer. */
  status: number;
  /** Delay before answering other paths. */
  delayMs: number;
  /** Requests other than `/healthz`, and health checks, received so far. */
  hits: number;
  checks: number;
  /** Host header of the last health check. */
  checkHost: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export async function namedUpstream(t: TestContext, name: string): Promise<NamedUpstream> {
  const sockets = new Set<import('node:net').Socket>();
  let server: http.Server;
  const u: NamedUpstream = {
    name, port: 0, healthStatus: 200, status: 200, delayMs: 0, hits: 0, checks: 0, checkHost: '',
    async stop() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    async restart() {
      await listen();
    },
  };
  const listen = async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/healthz') {
          u.checks++;
          u.checkHost = req.headers.host ?? '';
          res.statusCode = u.healthStatus;
          return res.end();
        }
        u.hits++;
        const answer = () => { res.statusCode = u.status; res.setHeader('x-name', name); res.end(name); };
        if (u.delayMs > 0) setTimeout(answer, u.delayMs); else answer();
      });
    });
    server.keepAliveTimeout = 5000;
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    await new Promise<void>((resolve) => server.listen(u.port, '127.0.0.1', resolve));
    u.port = (server.address() as AddressInfo).port;
  };
  await listen();
  t.after(() => u.stop().catch(() => {}));
  return u;
}

/** Sends `n` GETs one after another and returns the answering names (status codes other than 200 as `!<status>`). */
export async function names(port: number, n: number, opts: { path?: string; headers?: http.OutgoingHttpHeaders } = {}): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await request(port, { path: opts.path, headers: opts.headers });
    out.push(r.status === 200 ? r.body : `!${r.status}`);
  }
  return out;
}

/** A backend retry policy: two retries on connect failures and resets unless overridden. */
export function backendRetry(over: Partial<BackendRetrySpec>): BackendRetrySpec {
  return {
    attempts: 2, perTryTimeoutMs: null, retryOn: ['connect-failure', 'reset'], retriableStatusCodes: [], backoffMs: 2,
    budgetPercent: 20, budgetMinConcurrency: 3, retryNonIdempotent: false, ...over,
  };
}

/** Collects every RequestRecord published while the test runs. */
export function recordRequests(t: TestContext): RequestRecord[] {
  const records: RequestRecord[] = [];
  const fn = (r: unknown) => { records.push(r as RequestRecord); };
  requestChannel.subscribe(fn);
  t.after(() => { requestChannel.unsubscribe(fn); });
  return records;
}

/** Collects every UpstreamEvent published while the test runs. */
export function recordUpstreamEvents(t: TestContext): UpstreamEvent[] {
  const events: UpstreamEvent[] = [];
  const fn = (e: unknown) => { events.push(e as UpstreamEvent); };
  upstreamChannel.subscribe(fn);
  t.after(() => { upstreamChannel.unsubscribe(fn); });
  return events;
}

/** Collects every MirrorSample published while the test runs. */
export function recordMirrorSamples(t: TestContext): MirrorSample[] {
  const samples: MirrorSample[] = [];
  const fn = (s: unknown) => { samples.push(s as MirrorSample); };
  mirrorChannel.subscribe(fn);
  t.after(() => { mirrorChannel.unsubscribe(fn); });
  return samples;
}

/** A RequestMirror filter to backend `m` for every request (override any field). */
export function mirrorFilter(over: Partial<RequestMirrorFilter> = {}): RequestMirrorFilter {
  return {
    type: 'RequestMirror', backendId: 'm', numerator: 1, denominator: 1, maxBodyBytes: 1 << 20, allowUnsafeMethods: false,
    host: null, compare: null, ...over,
  };
}
