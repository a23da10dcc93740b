/** The Consul provider against the fake Consul agent: the provider contract, then Consul specifics through the manager. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DiscoverySource } from '../snapshot/index.ts';
import { eventually } from '../../test/support/eventually.ts';
import { startFakeConsul } from '../../test/support/fake-consul.ts';
import type { FakeConsul, FakeConsulInstance } from '../../test/support/fake-consul.ts';
import { createConsulProvider } from './consul.ts';
import { createDiscoveryManager } from './index.ts';
import type { DiscoveryManager } from './index.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { providerContract } from './provider.contract.ts';

providerContract({
  name: 'consul',
  updates: true,
  async world(initial) {
    const consul = await startFakeConsul();
    const publish = async (list: readonly { address: string; port: number }[]) =>
      consul.setService('web', list.map((a, i) => ({ id: `web-${i}`, address: a.address, port: a.port, passing: true })));
    await publish(initial);
    return {
      publish,
      provider: (ctx) => createConsulProvider({ type: 'consul', key: 'consul/web', address: consul.address, service: 'web', labels: {} }, ctx),
      fail: () => consul.stop(),
      recover: () => consul.start(),
      idle: () => consul.openQueries === 0,
      close: () => consul.close(),
    };
  },
});

describe('consul discovery', () => {
  let consul: FakeConsul;
  let clock: ManualClock;
  let manager: DiscoveryManager;
  const changes: string[] = [];
  const KEY = 'consul/web';
  const source = (extra: Partial<Extract<DiscoverySource, { type: 'consul' }>> = {}): DiscoverySource => ({
    type: 'consul', key: KEY, address: consul.address, service: 'web', labels: { team: 'shop' }, ...extra,
  });
  const inst = (id: string, address: string, extra: Partial<FakeConsulInstance> = {}): FakeConsulInstance =>
    ({ id, address, port: 8080, passing: true, ...extra });
  const addrs = () => (manager.endpoints(KEY) ?? []).map((e) => e.address);
  const status = () => manager.status().find((s) => s.key === KEY)!;
  const webQueries = () => consul.requests.filter((r) => r.path === '/v1/health/service/web');

  before(async () => {
    consul = await startFakeConsul({ token: 'tok' });
  });
  after(async () => {
    await manager?.close();
    await consul.close();
  });

  const restart = async (extra: Partial<Extract<DiscoverySource, { type: 'consul' }>> = {}) => {
    await manager?.close();
    clock = new ManualClock();
    changes.length = 0;
    manager = createDiscoveryManager({ clusters: [], onChange: (k) => changes.push(k), clock, random: () => 0.5 });
    manager.sync({ clusters: [], sources: [source({ token: 'tok', ...extra })], backends: {} });
  };

  test('endpoints appear with labels from the source, meta, tags and datacenter', async () => {
    consul.setService('web', [
      inst('a', '10.0.0.1', { tags: ['blue', 'primary'], meta: { version: 'v1' } }),
      inst('b', '', { node: { address: '10.0.0.2' }, meta: { [`ferry.dev/platform`]: 'bare-metal' }, weight: 3 }),
    ]);
    await restart();
    assert.equal(status().state, 'starting');
    await eventually(() => status().state === 'ok');
    assert.deepEqual(addrs(), ['10.0.0.1', '10.0.0.2']);
    const [a, b] = manager.endpoints(KEY)!;
    assert.deepEqual(a!.labels, {
      'ferry.dev/platform': 'vm', team: 'shop', version: 'v1',
      'consul.hashicorp.com/tag.blue': 'true', 'consul.hashicorp.com/tag.primary': 'true',
      'consul.hashicorp.com/datacenter': 'dc1',
    });
    assert.equal(b!.labels['ferry.dev/platform'], 'bare-metal');
    assert.equal(b!.weight, 3);
    assert.deepEqual(changes, [KEY]);
    const first = webQueries().at(-1)!;
    assert.equal(first.headers['x-consul-token'], 'tok');
    assert.equal(first.query.passing, 'true');
  });

  test('an instance going critical is removed; blocking queries carry index and wait', async () => {
    await eventually(() => consul.openQueries === 1);
    const held = webQueries().at(-1)!;
    assert.ok(Number(held.query.index) > 0);
    assert.equal(held.query.wait, '300s');
    consul.setService('web', [inst('a', '10.0.0.1'), inst('b', '', { node: { address: '10.0.0.2' }, passing: false })]);
    await eventually(() => addrs().join() === '10.0.0.1');
    assert.equal(changes.length, 2);
  });

  test('tag and datacenter are passed to Consul', async () => {
    consul.setService('web', [inst('a', '10.0.0.1', { tags: ['blue'] }), inst('b', '10.0.0.2', { tags: ['green'] })]);
    await restart({ tag: 'green', datacenter: 'dc1' });
    await eventually(() => addrs().join() === '10.0.0.2');
    const q = webQueries().at(-1)!.query;
    assert.equal(q.tag, 'green');
    assert.equal(q.dc, 'dc1');
  });

  test('a blocking query broken mid-watch: endpoints kept, failing, then reconnects and catches up', async () => {
    consul.setService('web', [inst('a', '10.0.0.1'), inst('b', '10.0.0.2')]);
    await restart();
    await eventually(() => status().state === 'ok' && consul.openQueries === 1);
    consul.breakConnections();
    await eventually(() => status().state === 'failing');
    assert.equal(status().consecutiveFailures, 1);
    assert.match(status().lastError!, /fetch failed|terminated|socket/i);
    assert.deepEqual(addrs(), ['10.0.0.1', '10.0.0.2']);
    consul.setService('web', [inst('a', '10.0.0.1'), inst('c', '10.0.0.3')]); // changes while disconnected
    clock.advance(1000); // the first backoff (250 ms ± jitter) elapses
    await eventually(() => status().state === 'ok' && addrs().join() === '10.0.0.1,10.0.0.3');
    assert.equal(status().consecutiveFailures, 0);
    assert.equal(status().lastError, null);
  });

  test('Consul stopped: last endpoints kept, retries back off exponentially, recovers when started', async () => {
    await restart();
    await eventually(() => status().state === 'ok' && consul.openQueries === 1);
    await consul.stop();
    await eventually(() => status().state === 'failing');
    const delaysBefore = clock.delays.length;
    // Walk the clock through several backoff rounds; each round must fail once more.
    for (let round = 2; round <= 6; round++) {
      clock.advance(clock.delays.at(-1)!);
      await eventually(() => status().consecutiveFailures === round);
    }
    const delays = clock.delays.slice(delaysBefore - 1);
    assert.deepEqual(delays, [188, 375, 750, 1500, 3000, 6000], 'doubling from 250 ms with jitter (random 0.5)');
    assert.deepEqual(addrs(), ['10.0.0.1', '10.0.0.3']);
    assert.equal(status().endpoints, 2);
    await consul.start();
    clock.advance(6000);
    await eventually(() => status().state === 'ok');
    consul.setService('web', [inst('d', '10.0.0.4')]);
    await eventually(() => addrs().join() === '10.0.0.4');
  });

  test('an index going backwards resets it to 0 and the watch carries on', async () => {
    consul.setService('web', [inst('a', '10.0.0.1')]);
    await restart();
    await eventually(() => status().state === 'ok' && consul.openQueries === 1);
    const before = webQueries().length;
    consul.forceIndexBackwards();
    await eventually(() => consul.openQueries === 1 && webQueries().length >= before + 2);
    const [reset, next] = webQueries().slice(before);
    assert.equal(reset!.query.index, undefined, 'a non-blocking read after the reset');
    assert.equal(next!.query.index, String(consul.index));
    consul.setService('web', [inst('b', '10.0.0.2')]);
    await eventually(() => addrs().join() === '10.0.0.2');
    assert.equal(status().state, 'ok');
  });

  test('403 for a wrong token is reported as a failure', async () => {
    await restart({ token: 'wrong' });
    await eventually(() => status().state === 'failing');
    assert.match(status().lastError!, /HTTP 403/);
    assert.equal(manager.endpoints(KEY), undefined);
  });
});
