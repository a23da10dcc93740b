import { DEFAULT_BACKEND_POLICY } from '../snapshot/index.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import client from 'prom-client';
import type { CompileReport, Endpoint, Snapshot } from '../snapshot/index.ts';
import { createAdminServer } from './server.ts';
import type { AdminState, LastReload } from './state.ts';

const KEY = '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n';

const snapshot: Snapshot = {
  hash: 'abc123',
  sockets: [{
    key: '127.0.0.1:0', bindHost: '127.0.0.1', bindPort: 0, protocol: 'HTTPS',
    listeners: [{
      id: 'default/edge/https', gatewayNamespace: 'default', gatewayName: 'edge', name: 'https', port: 443, protocol: 'HTTPS',
      tls: { minVersion: 'TLSv1.2', certificates: [{ secret: 'default/tls', certPem: 'CERT', keyPem: KEY, serverNames: ['shop.example.com'] }] },
      virtualHosts: [],
    }],
  }],
  rules: {},
  backends: { 'Service/default/catalog:8080': { id: 'Service/default/catalog:8080', kind: 'Service', namespace: 'default', name: 'catalog', port: 8080, protocol: 'http1', policy: DEFAULT_BACKEND_POLICY } },
};

const endpoint: Endpoint = { address: '10.0.0.1', port: 8080, ready: true, labels: { platform: 'vm' } };

const report: CompileReport = {
  resources: [{ kind: 'HTTPRoute', namespace: 'default', name: 'catalog', file: 'route.yaml', line: 1, accepted: false, conditions: [], parents: [], errors: [] }],
  errors: [{ file: 'route.yaml', line: 3, column: 5, kind: 'HTTPRoute', name: 'catalog', field: 'spec.rules[0]', message: 'bad', severity: 'error' }],
};

function fakeState(): AdminState & { isReady: boolean; current: Snapshot | null; last: LastReload | null } {
  return {
    isReady: false,
    current: null,
    last: null,
    ready() { return this.isReady; },
    snapshot() { return this.current; },
    endpoints: () => new Map([['Service/default/catalog:8080', [endpoint]]]),
    report: () => report,
    lastReload() { return this.last; },
    sockets: () => [{ key: '127.0.0.1:0', host: '127.0.0.1', port: 40443, protocol: 'HTTPS' }],
  };
}

async function start(t: { after(fn: () => Promise<void>): void }) {
  const registry = new client.Registry();
  new client.Counter({ name: 'ferry_test_total', help: 'test', registers: [registry] }).inc(3);
  const state = fakeState();
  const admin = await createAdminServer({ host: '127.0.0.1', port: 0, registry, state });
  t.after(() => admin.close());
  return { state, base: `http://127.0.0.1:${admin.port}`, admin };
}

test('/ready follows the state', async (t) => {
  const { state, base, admin } = await start(t);
  assert.equal(admin.host, '127.0.0.1');
  assert.ok(admin.port > 0);
  let res = await fetch(`${base}/ready`);
  assert.equal(res.status, 503);
  assert.equal(await res.text(), 'not ready\n');
  state.isReady = true;
  res = await fetch(`${base}/ready`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ok\n');
});

test('/metrics serves the registry in Prometheus text format', async (t) => {
  const { base } = await start(t);
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  assert.match(await res.text(), /^ferry_test_total 3$/m);
});

test('/config shows the snapshot with keys redacted, endpoints and bound sockets', async (t) => {
  const { state, base } = await start(t);
  assert.equal((await fetch(`${base}/config`)).status, 503, 'nothing applied yet');
  state.current = snapshot;
  const res = await fetch(`${base}/config`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const text = await res.text();
  assert.doesNotMatch(text, /PRIVATE KEY/);
  const body = JSON.parse(text) as {
    hash: string; backends: object; listening: unknown[]; endpoints: Record<string, Endpoint[]>;
    sockets: { key: string; bound: { port: number }; listeners: { tls: { certificates: { keyPem: string; certPem: string }[] } }[] }[];
  };
  assert.equal(body.hash, 'abc123');
  assert.equal(body.sockets[0].listeners[0].tls.certificates[0].keyPem, '<redacted>');
  assert.equal(body.sockets[0].listeners[0].tls.certificates[0].certPem, 'CERT');
  assert.equal(body.sockets[0].bound.port, 40443);
  assert.deepEqual(body.listening, state.sockets());
  assert.deepEqual(Object.keys(body.backends), ['Service/default/catalog:8080']);
  assert.deepEqual(body.endpoints['Service/default/catalog:8080'], [endpoint]);
});

test('/status shows the last reload, resources and errors', async (t) => {
  const { state, base } = await start(t);
  state.last = { at: '2025-01-01T00:00:00.000Z', outcome: 'rejected', hash: 'abc123', errors: 1 };
  const res = await fetch(`${base}/status?verbose=1`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { lastReload: state.last, resources: report.resources, errors: report.errors, sources: [], rollouts: [] });
});

test('unknown paths are 404 and other methods 405, both as JSON', async (t) => {
  const { base } = await start(t);
  let res = await fetch(`${base}/nope`);
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.equal(((await res.json()) as { error: string }).error, 'not found');
  res = await fetch(`${base}/config`, { method: 'POST', body: '{}' });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'GET, HEAD');
  assert.equal(res.headers.get('content-type'), 'application/json');
  await res.body?.cancel();
  res = await fetch(`${base}/ready`, { method: 'HEAD' });
  assert.equal(res.status, 503);
});

test('close() closes kept-alive connections too', async (t) => {
  const { base, admin } = await start(t);
  await (await fetch(`${base}/status`)).text(); // leaves a keep-alive connection open
  await admin.close();
  await assert.rejects(fetch(`${base}/status`));
});

test('rollouts are listed, shown and controlled; diffs are shown', async (t) => {
  const registry = new client.Registry();
  const state = fakeState();
  const calls: string[] = [];
  const statuses: Record<string, { phase: string }> = { 'default/catalog': { phase: 'Paused' } };
  const withRollouts = {
    ...state,
    ready: () => true,
    snapshot: () => null,
    endpoints: () => new Map(),
    report: () => null,
    lastReload: () => null,
    sockets: () => [],
    rollouts: {
      list: () => Object.values(statuses),
      get: (key: string) => statuses[key],
      control: (key: string, action: string) => {
        calls.push(`${key} ${action}`);
        return action === 'resume' ? { ok: false, error: 'not paused' } : { ok: true, status: statuses[key] };
      },
      diffs: (key?: string) => (key === undefined ? { routes: [] } : key === 'default/catalog' ? { compared: 3 } : undefined),
    },
  };
  const admin = await createAdminServer({ host: '127.0.0.1', port: 0, registry, state: withRollouts });
  t.after(() => admin.close());
  const base = `http://127.0.0.1:${admin.port}`;
  assert.deepEqual(await (await fetch(`${base}/rollouts`)).json(), { rollouts: [{ phase: 'Paused' }] });
  assert.deepEqual(await (await fetch(`${base}/rollouts/default/catalog`)).json(), { phase: 'Paused' });
  assert.equal((await fetch(`${base}/rollouts/default/missing`)).status, 404);
  let res = await fetch(`${base}/rollouts/default/catalog/promote`, { method: 'POST' });
  assert.equal(res.status, 200);
  res = await fetch(`${base}/rollouts/default/catalog/resume`, { method: 'POST' });
  assert.equal(res.status, 409);
  assert.equal(((await res.json()) as { error: string }).error, 'not paused');
  res = await fetch(`${base}/rollouts/default/catalog/explode`, { method: 'POST' });
  assert.equal(res.status, 400);
  assert.deepEqual(calls, ['default/catalog promote', 'default/catalog resume']);
  assert.deepEqual(await (await fetch(`${base}/diffs/default/catalog`)).json(), { compared: 3 });
  assert.equal((await fetch(`${base}/config`, { method: 'POST' })).status, 405);
});
