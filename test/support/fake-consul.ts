/**
 * A fake Consul agent on 127.0.0.1 for discovery tests: `GET /v1/health/service/:name` only.
 *
 * Faithful: the answer's shape (`Node`, `Service`, `Checks` with `passing`/`critical`), `passing`,
 * `tag` and `dc` query parameters, blocking queries (`index` + `wait` in Consul's duration syntax,
 * capped at 600 s: the answer is held until the service's index moves past `index` or the wait
 * expires, then answered with the unchanged index), the `X-Consul-Index` header (a raft-like counter
 * that only moves forwards unless `forceIndexBackwards()` simulates a snapshot restore), 403 without
 * a token when ACLs are on, 500 "No path to datacenter" for an unknown `dc`.
 * Simplified: one node per instance, one service check per instance plus `serfHealth`, no wait
 * jitter, no other endpoints, no `filter`/`near`/`cached`, no X-Consul-KnownLeader headers.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeConsulInstance {
  id: string;
  /** Service address; '' makes clients fall back to the node's address. */
  address: string;
  port: number;
  tags?: string[];
  meta?: Record<string, string>;
  passing: boolean;
  node?: { name?: string; address?: string };
  /** Service weight when passing (Consul `Weights.Passing`). */
  weight?: number;
}

export interface FakeConsulRequest {
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
}

export interface FakeConsulOptions {
  datacenter?: string;
  /** When set, requests must carry it in X-Consul-Token (or ?token=). */
  token?: string;
}

export interface FakeConsul {
  /** `http://127.0.0.1:<port>` (the same port across stop()/start()). */
  readonly address: string;
  readonly requests: FakeConsulRequest[];
  /** Replaces a service's instances (an empty list deregisters it) and moves the index. */
  setService(name: string, instances: FakeConsulInstance[]): void;
  /** Destroys the sockets of every blocking query being held (a watch broken mid-way). */
  breakConnections(): void;
  /** Moves the index backwards (as after a snapshot restore) and wakes every blocking query. */
  forceIndexBackwards(): void;
  /** Blocking queries currently held. */
  readonly openQueries: number;
  readonly index: number;
  /** Stops listening and drops every connection; start() listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

interface Waiter {
  readonly service: string;
  readonly minIndex: number;
  readonly res: http.ServerResponse;
  readonly answer: () => void;
}

export async function startFakeConsul(opts: FakeConsulOptions = {}): Promise<FakeConsul> {
  const datacenter = opts.datacenter ?? 'dc1';
  const services = new Map<string, { index: number; instances: FakeConsulInstance[] }>();
  const waiters = new Set<Waiter>();
  const sockets = new Set<Socket>();
  const requests: FakeConsulRequest[] = [];
  let index = 10;
  let port = 0;
  let server: http.Server | undefined;

  const serviceIndex = (name: string) => services.get(name)?.index ?? 1;

  function wake(service?: string): void {
    for (const w of [...waiters]) {
      if (service === undefined || (w.service === service && serviceIndex(service) > w.minIndex)) w.answer();
    }
  }

  function entries(name: string, query: Record<string, string>): object[] {
    const list = services.get(name)?.instances ?? [];
    return list
      .filter((i) => query.passing === undefined || query.passing === 'false' || i.passing)
      .filter((i) => !query.tag || (i.tags ?? []).includes(query.tag))
      .map((i) => {
        const nodeName = i.node?.name ?? `node-${i.id}`;
        return {
          Node: { ID: '', Node: nodeName, Address: i.node?.address ?? (i.address || '127.0.0.1'), Datacenter: datacenter, TaggedAddresses: null, Meta: {} },
          Service: {
            ID: i.id, Service: name, Tags: i.tags ?? [], Address: i.address, Meta: i.meta ?? null, Port: i.port,
            Weights: { Passing: i.weight ?? 1, Warning: 1 }, EnableTagOverride: false,
          },
          Checks: [
            { Node: nodeName, CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing', ServiceID: '', ServiceName: '' },
            { Node: nodeName, CheckID: `service:${i.id}`, Name: `Service '${name}' check`, Status: i.passing ? 'passing' : 'critical', ServiceID: i.id, ServiceName: name },
          ],
        };
      });
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://consul');
    const query = Object.fromEntries(url.searchParams);
    requests.push({ path: url.pathname, query, headers: req.headers });
    const json = (status: number, body: unknown, idx?: number) => {
      const headers: Record<string, string> = { 'content-type': status === 200 ? 'application/json' : 'text/plain; charset=utf-8' };
      if (idx !== undefined) headers['x-consul-index'] = String(idx);
      res.writeHead(status, headers).end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const match = /^\/v1\/health\/service\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) return json(404, 'Not found');
    if (opts.token !== undefined && (req.headers['x-consul-token'] ?? query.token) !== opts.token) {
      return json(403, 'ACL not found');
    }
    if (query.dc && query.dc !== datacenter) return json(500, `No path to datacenter`);
    const name = decodeURIComponent(match[1]!);
    const minIndex = Number(query.index ?? 0);
    const answer = () => json(200, entries(name, query), serviceIndex(name));
    if (!(minIndex > 0) || serviceIndex(name) > minIndex) return answer();
    const waitMs = Math.min(parseWait(query.wait ?? '5m'), 600_000);
    const waiter: Waiter = {
      service: name, minIndex, res,
      answer: () => {
        if (!waiters.delete(waiter)) return;
        clearTimeout(timer);
        if (!res.destroyed) answer();
      },
    };
    const timer = setTimeout(waiter.answer, waitMs);
    timer.unref();
    waiters.add(waiter);
    res.on('close', () => {
      waiters.delete(waiter);
      clearTimeout(timer);
    });
  }

  async function start(): Promise<void> {
    if (server) return;
    const s = http.createServer(handle);
    s.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  }

  async function stop(): Promise<void> {
    const s = server;
    if (!s) return;
    server = undefined;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    waiters.clear();
    await closed;
  }

  await start();
  return {
    address: `http://127.0.0.1:${port}`,
    requests,
    setService(name, instances) {
      index++;
      if (instances.length === 0) services.set(name, { index, instances: [] });
      else services.set(name, { index, instances: instances.map((i) => ({ ...i })) });
      wake(name);
    },
    breakConnections() {
      for (const w of [...waiters]) {
        waiters.delete(w);
        w.res.socket?.destroy();
      }
    },
    forceIndexBackwards() {
      index = 2;
      for (const svc of services.values()) svc.index = index;
      // A restored server answers held queries with the (lower) current index.
      for (const w of [...waiters]) w.answer();
    },
    get openQueries() {
      return waiters.size;
    },
    get index() {
      return index;
    },
    stop,
    start,
    close: stop,
  };
}

/** Consul durations for `wait`: `10s`, `5m`, `250ms`, `1h`; a bare number is seconds. */
function parseWait(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  if (!m) return 300_000;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
}
