/** The discovery manager: declarative sync, change notification, restarts that keep endpoints, status, close. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DiscoveryPlan, DiscoverySource, Endpoint } from '../snapshot/index.ts';
import { eventually } from '../../test/support/eventually.ts';
import { startFakeConsul } from '../../test/support/fake-consul.ts';
import { createDiscoveryManager } from './index.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';

const ep = (address: string): Endpoint => ({ address, port: 80, ready: true, labels: {} });
const statik = (key: string, ...addresses: string[]): DiscoverySource => ({ type: 'static', key, endpoints: addresses.map(ep) });
const plan = (...sources: DiscoverySource[]): DiscoveryPlan => ({ clusters: [], sources, backends: {} });
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

test('sync starts, keeps, restarts and stops sources by key; onChange only for real changes, after sync returns', async () => {
  const changes: string[] = [];
  const m = createDiscoveryManager({ clusters: [], onChange: (k) => changes.push(k), clock: new ManualClock() });
  m.sync(plan(statik('a', '10.0.0.1'), statik('b', '10.0.0.2')));
  assert.deepEqual(m.endpoints('a')?.map((e) => e.address), ['10.0.0.1'], 'static endpoints are there at once');
  assert.deepEqual(changes, [], 'but onChange is not called from inside sync');
  await flush();
  assert.deepEqual(changes.sort(), ['a', 'b']);

  changes.length = 0;
  m.sync(plan(statik('a', '10.0.0.1'), statik('b', '10.0.0.2')));
  await flush();
  assert.deepEqual(changes, [], 'the same plan changes nothing');

  m.sync(plan(statik('a', '10.0.0.1', '10.0.0.3')));
  await flush();
  assert.deepEqual(changes, ['a']);
  assert.deepEqual(m.endpoints('a')?.map((e) => e.address), ['10.0.0.1', '10.0.0.3']);
  assert.equal(m.endpoints('b'), undefined, 'a removed source is gone');
  assert.deepEqual(m.status().map((s) => s.key), ['a']);
  const [a] = m.status();
  assert.equal(a!.state, 'ok');
  assert.equal(a!.type, 'static');
  assert.equal(a!.endpoints, 2);
  assert.equal(a!.lastUpdate, new Date(1_700_000_000_000).toISOString());
  await m.close();
  m.sync(plan(statik('c', '10.0.0.9')));
  assert.equal(m.endpoints('c'), undefined, 'a closed manager does nothing');
});

test('a restarted source keeps its last endpoints until the new watch answers, and through its failures', async () => {
  const consul = await startFakeConsul({ token: 'right' });
  const clock = new ManualClock();
  const m = createDiscoveryManager({ clusters: [], onChange() {}, clock });
  try {
    consul.setService('web', [{ id: 'a', address: '10.0.0.1', port: 80, passing: true }]);
    const source = (token: string): DiscoverySource => ({ type: 'consul', key: 'c', address: consul.address, service: 'web', token, labels: {} });
    m.sync(plan(source('right')));
    await eventually(() => m.status()[0]!.state === 'ok');
    m.sync(plan(source('wrong')));
    assert.equal(m.status()[0]!.state, 'starting');
    assert.equal(m.endpoints('c')?.length, 1);
    await eventually(() => m.status()[0]!.state === 'failing');
    clock.advance(1000);
    await eventually(() => m.status()[0]!.consecutiveFailures >= 2);
    assert.deepEqual(m.endpoints('c')?.map((e) => e.address), ['10.0.0.1']);
  } finally {
    await m.close();
    await consul.close();
  }
  assert.equal(consul.openQueries, 0);
});

test('a Kubernetes source naming an unknown cluster fails until the cluster appears', async () => {
  const m = createDiscoveryManager({ clusters: [], onChange() {}, clock: new ManualClock() });
  const source: DiscoverySource = { type: 'kubernetes', key: 'k', cluster: 'east', namespace: 'shop', service: 'web', port: 80, labels: {} };
  m.sync(plan(source));
  assert.equal(m.status()[0]!.state, 'failing');
  assert.equal(m.status()[0]!.lastError, 'unknown cluster "east"');
  m.sync({ clusters: [{ name: 'east', kubeconfig: '/nonexistent/kubeconfig', labels: {} }], sources: [source], backends: {} });
  await eventually(() => /nonexistent/.test(m.status()[0]!.lastError ?? ''));
  assert.equal(m.endpoints('k'), undefined);
  await m.close();
});
