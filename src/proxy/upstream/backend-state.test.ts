import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BACKEND_POLICY, DEFAULT_HEALTH_CHECK, type BackendPolicy, type BackendSpec, type Endpoint } from '../../snapshot/index.ts';
import { seededRandom, type Clock, type Timer } from '../../lib/index.ts';
import { BackendState } from './backend-state.ts';
import type { UpstreamPool } from './pool.ts';

const idleClock: Clock = { now: () => 0, monotonic: () => 0, setTimer: (): Timer => ({ cancel() {} }) };
const pool = {} as UpstreamPool;
const poolFor = () => pool;

function spec(policy: Partial<BackendPolicy> = {}): BackendSpec {
  return { id: 'b', kind: 'Service', namespace: 'default', name: 'b', port: 80, protocol: 'http1', policy: { ...DEFAULT_BACKEND_POLICY, ...policy } };
}
function eps(ports: number[], extra: Partial<Endpoint> = {}): Endpoint[] {
  return ports.map((port) => ({ address: '10.0.0.1', port, ready: true, labels: {}, ...extra }));
}
const checked = spec({ healthCheck: { ...DEFAULT_HEALTH_CHECK, type: 'TCP' } });

test('with health checks: the first endpoints start healthy, later ones unhealthy until probed', () => {
  const b = new BackendState('b', checked, idleClock, seededRandom(1));
  b.update(checked, eps([1, 2]), poolFor);
  assert.deepEqual(b.ready.map((h) => h.healthy), [true, true]);
  b.update(checked, eps([1, 2, 3]), poolFor);
  assert.deepEqual(b.ready.map((h) => h.healthy), [true, true, false]);
  for (let i = 0; i < 30; i++) assert.notEqual(b.pick(null, null)?.port, 3);
  b.close();
});

test('state is kept across policy changes and identical endpoint lists; level versions change only with members or weights', () => {
  const b = new BackendState('b', checked, idleClock, seededRandom(1));
  b.update(checked, eps([1, 2]), poolFor);
  const host = b.host('10.0.0.1:1')!;
  host.hcOk = false;
  host.updateHealthy();
  b.refresh();
  const v = b.levels()[0].version;
  const changed = spec({ healthCheck: { ...DEFAULT_HEALTH_CHECK, type: 'HTTP', intervalMs: 1234 }, loadBalancer: { type: 'Maglev', hashOn: null, ringSize: 1024 } });
  b.update(changed, eps([1, 2]), poolFor);
  assert.equal(b.host('10.0.0.1:1'), host);
  assert.equal(host.healthy, false);
  assert.equal(b.levels()[0].version, v, 'same members, same version: no ring rebuild');
  assert.deepEqual(b.levels()[0].usable.map((h) => h.port), [2]);
  b.update(changed, eps([1, 2], { weight: 2 }), poolFor);
  assert.notEqual(b.levels()[0].version, v, 'weights changed');
  b.update(spec(), eps([1, 2]), poolFor);
  assert.equal(host.healthy, true, 'health checks turned off: every endpoint healthy');
  b.close();
});

test('not-ready endpoints are never picked, whatever the panic state', () => {
  const b = new BackendState('b', spec(), idleClock, seededRandom(1));
  b.update(spec(), [...eps([1]), ...eps([2], { ready: false })], poolFor);
  for (let i = 0; i < 10; i++) assert.equal(b.pick(null, null)?.port, 1);
  b.update(spec(), eps([2], { ready: false }), poolFor);
  assert.equal(b.pick(null, null), undefined);
});
