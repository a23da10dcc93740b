/**
 * The admin API on plain node:http: /ready, /metrics, /config and /status (GET and HEAD), Rollouts
 * (`GET /rollouts[/ns/name]`, `POST /rollouts/ns/name/{promote|pause|resume|abort|retry}`) and
 * response diffs (`GET /diffs[/ns/name]`). It is meant for localhost (the default bind is
 * 127.0.0.1:9901); it never shows private keys.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { AdminState, RolloutAction } from './state.ts';
import { configView, redactedJson, statusView } from './views.ts';

export interface AdminServerDeps {
  host: string;
  port: number;
  registry: Registry;
  state: AdminState;
}

export interface AdminServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  contentType: string;
  body: string;
}

const JSON_TYPE = 'application/json';
const PATHS = ['/ready', '/metrics', '/config', '/status', '/rollouts', '/diffs'];
const ACTIONS: ReadonlySet<string> = new Set(['promote', 'pause', 'resume', 'abort', 'retry']);
const NAME = '[a-z0-9]([-a-z0-9.]*[a-z0-9])?';
const ROLLOUT_PATH = new RegExp(`^/(rollouts|diffs)/(${NAME})/(${NAME})(?:/([a-z]+))?$`);

const json = (status: number, value: unknown): Reply => ({ status, contentType: JSON_TYPE, body: redactedJson(value) + '\n' });

async function route(path: string, deps: AdminServerDeps): Promise<Reply> {
  const { state, registry } = deps;
  switch (path) {
    case '/ready':
      return state.ready()
        ? { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok\n' }
        : { status: 503, contentType: 'text/plain; charset=utf-8', body: 'not ready\n' };
    case '/metrics':
      return { status: 200, contentType: registry.contentType, body: await registry.metrics() };
    case '/config': {
      const snapshot = state.snapshot();
      if (!snapshot) return json(503, { error: 'no configuration applied yet' });
      return json(200, configView(snapshot, state.endpoints(), state.sockets()));
    }
    case '/status':
      return json(200, statusView(state));
    case '/rollouts':
      return json(200, { rollouts: state.rollouts?.list() ?? [] });
    case '/diffs':
      return json(200, state.rollouts?.diffs() ?? {});
    default: {
      const m = ROLLOUT_PATH.exec(path);
      if (m && !m[6] && state.rollouts) {
        const key = `${m[2]}/${m[4]}`;
        const found = m[1] === 'rollouts' ? state.rollouts.get(key) : state.rollouts.diffs(key);
        return found === undefined ? json(404, { error: `rollout ${key} not found` }) : json(200, found);
      }
      return json(404, { error: 'not found', paths: PATHS });
    }
  }
}

/** POST /rollouts/ns/name/action: the only writes the admin API accepts. */
function control(path: string, state: AdminState): Reply {
  const m = ROLLOUT_PATH.exec(path);
  if (!m || m[1] !== 'rollouts' || !m[6]) return json(404, { error: 'not found: POST /rollouts/NAMESPACE/NAME/{promote|pause|resume|abort|retry}' });
  if (!ACTIONS.has(m[6])) return json(400, { error: `unknown action ${m[6]}: use promote, pause, resume, abort or retry` });
  if (!state.rollouts) return json(404, { error: 'this process runs no rollouts' });
  const key = `${m[2]}/${m[4]}`;
  if (state.rollouts.get(key) === undefined) return json(404, { error: `rollout ${key} not found` });
  const result = state.rollouts.control(key, m[6] as RolloutAction);
  return json(result.ok ? 200 : 409, result);
}

export async function createAdminServer(deps: AdminServerDeps): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    const send = (reply: Reply, extra: Record<string, string> = {}) => {
      res.writeHead(reply.status, {
        'content-type': reply.contentType,
        'content-length': Buffer.byteLength(reply.body),
        'cache-control': 'no-store',
        ...extra,
      });
      res.end(req.method === 'HEAD' ? undefined : reply.body);
    };
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (req.method === 'POST' && path.startsWith('/rollouts/')) {
      req.resume();
      req.on('end', () => send(control(path, deps.state)));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(json(405, { error: `method ${req.method} not allowed` }), { allow: 'GET, HEAD' });
      return;
    }
    route(path, deps).then(send, (err: unknown) => {
      send(json(500, { error: err instanceof Error ? err.message : String(err) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, deps.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    host: address.address,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
