/** The DNS provider against a real DNS server (dnsmasq): the provider contract, then TTLs, SRV and failures. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DiscoverySource } from '../snapshot/index.ts';
import { findDnsmasq, startDnsServer } from '../../test/support/dns.ts';
import type { DnsServer } from '../../test/support/dns.ts';
import { eventually } from '../../test/support/eventually.ts';
import { createDnsProvider } from './dns.ts';
import { createDiscoveryManager } from './index.ts';
import type { DiscoveryManager } from './index.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { providerContract } from './provider.contract.ts';

const skip = !findDnsmasq() && !process.env.CI ? 'dnsmasq not installed (apt-get install dnsmasq-base)' : false;

type DnsSource = Extract<DiscoverySource, { type: 'dns' }>;

if (!skip) {
  providerContract({
    name: 'dns',
    updates: true,
    async world(initial) {
      const records = (list: readonly { address: string }[]) => ({ A: { 'web.ferry.test': list.map((a) => a.address) } });
      const server = await startDnsServer({ records: records(initial) });
      return {
        publish: (list) => server.update(records(list)),
        provider: (ctx) => createDnsProvider({
          type: 'dns', key: 'dns/web', name: 'web.ferry.test', recordType: 'A', port: 8080, servers: [server.server],
          minRefreshMs: 1000, maxRefreshMs: 5000, labels: {},
        }, ctx),
        fail: () => server.stop(),
        recover: () => server.start(),
        close: () => server.close(),
      };
    },
  });
}

describe('dns discovery', { skip }, () => {
  let server: DnsServer;
  let clock: ManualClock;
  let manager: DiscoveryManager;
  const records = {
    A: { 'web.ferry.test': ['10.0.0.1', '10.0.0.2'], 'node1.ferry.test': ['10.0.1.1'], 'node2.ferry.test': ['10.0.1.2'] },
    SRV: { '_http._tcp.api.ferry.test': [{ target: 'node1.ferry.test', port: 9001, priority: 0, weight: 10 }, { target: 'node2.ferry.test', port: 9002, priority: 1, weight: 0 }] },
  };
  const a: DnsSource = { type: 'dns', key: 'dns/web', name: 'web.ferry.test', recordType: 'A', port: 8080, servers: [], minRefreshMs: 1000, maxRefreshMs: 10_000, labels: { team: 'shop' } };
  const srv: DnsSource = { ...a, key: 'dns/api', name: '_http._tcp.api.ferry.test', recordType: 'SRV', port: 0, minRefreshMs: 1500 };
  const addrs = (key: string) => (manager.endpoints(key) ?? []).map((e) => `${e.address}:${e.port}`);
  const status = (key: string) => manager.status().find((s) => s.key === key)!;

  before(async () => {
    server = await startDnsServer({ records, ttlSeconds: 3 });
  });
  after(async () => {
    await manager?.close();
    await server?.close();
  });

  const run = (...sources: DnsSource[]) => {
    clock = new ManualClock();
    manager = createDiscoveryManager({ clusters: [], onChange() {}, clock, random: () => 0.5 });
    manager.sync({ clusters: [], sources: sources.map((s) => ({ ...s, servers: [server.server] })), backends: {} });
  };

  test('A and SRV records resolve into labelled endpoints', async () => {
    run(a, srv);
    await eventually(() => status('dns/web').state === 'ok' && status('dns/api').state === 'ok');
    assert.deepEqual(addrs('dns/web'), ['10.0.0.1:8080', '10.0.0.2:8080']);
    assert.deepEqual(manager.endpoints('dns/web')![0]!.labels, { 'ferry.dev/platform': 'vm', team: 'shop' });
    assert.deepEqual(addrs('dns/api'), ['10.0.1.1:9001', '10.0.1.2:9002']);
    const [n1, n2] = manager.endpoints('dns/api')!;
    assert.equal(n1!.weight, 10);
    assert.equal(n2!.weight, undefined);
    assert.equal(n2!.labels['ferry.dev/srv-priority'], '1');
    // A/AAAA re-resolve after the answer's TTL (3 s); SRV, whose TTL Node does not expose, after minRefreshMs.
    assert.ok(clock.delays.includes(3000), `delays ${clock.delays.join()}`);
    assert.ok(clock.delays.includes(1500), `delays ${clock.delays.join()}`);
  });

  test('a changed record is re-resolved once its TTL has passed, not before', async () => {
    await server.update({ ...records, A: { ...records.A, 'web.ferry.test': ['10.0.0.3'], 'node2.ferry.test': ['10.0.1.9'] } });
    clock.advance(2000);
    await eventually(() => addrs('dns/api').join() === '10.0.1.1:9001,10.0.1.9:9002');
    assert.deepEqual(addrs('dns/web'), ['10.0.0.1:8080', '10.0.0.2:8080'], 'the A answer is still within its TTL');
    clock.advance(1000);
    await eventually(() => addrs('dns/web').join() === '10.0.0.3:8080');
  });

  test('SRV changes are seen after minRefreshMs', async () => {
    await server.update({
      A: { ...records.A, 'web.ferry.test': ['10.0.0.3'] },
      SRV: { '_http._tcp.api.ferry.test': [{ target: 'node1.ferry.test', port: 9005, priority: 0, weight: 1 }] },
    });
    await eventually(() => {
      clock.advance(1500);
      return addrs('dns/api').join() === '10.0.1.1:9005';
    });
  });

  test('server stopped: endpoints kept and status failing; back: ok', async () => {
    await server.stop();
    await eventually(() => {
      clock.advance(1000);
      return status('dns/web').state === 'failing' && status('dns/api').state === 'failing';
    });
    assert.deepEqual(addrs('dns/web'), ['10.0.0.3:8080']);
    assert.deepEqual(addrs('dns/api'), ['10.0.1.1:9005']);
    assert.match(status('dns/web').lastError!, /ECONNREFUSED|ETIMEOUT|ESERVFAIL/);
    await server.start();
    await eventually(() => {
      clock.advance(1000);
      return status('dns/web').state === 'ok' && status('dns/api').state === 'ok';
    });
    assert.equal(status('dns/web').consecutiveFailures, 0);
  });

  test('NXDOMAIN keeps the last endpoints and retries with backoff', async () => {
    await server.update({ A: { 'node1.ferry.test': ['10.0.1.1'] }, SRV: { '_http._tcp.api.ferry.test': [{ target: 'node1.ferry.test', port: 9005, priority: 0, weight: 1 }] } });
    await eventually(() => {
      clock.advance(1000);
      return status('dns/web').state === 'failing';
    });
    assert.match(status('dns/web').lastError!, /ENOTFOUND/);
    assert.deepEqual(addrs('dns/web'), ['10.0.0.3:8080']);
  });

  test('refresh delays are clamped into [minRefreshMs, maxRefreshMs]', async () => {
    await manager.close();
    const long = await startDnsServer({ records: { A: { 'web.ferry.test': ['10.0.0.1'] } }, ttlSeconds: 60 });
    try {
      clock = new ManualClock();
      manager = createDiscoveryManager({ clusters: [], onChange() {}, clock });
      manager.sync({ clusters: [], sources: [{ ...a, servers: [long.server], maxRefreshMs: 7000 }], backends: {} });
      await eventually(() => manager.status()[0]!.state === 'ok');
      assert.deepEqual(clock.delays, [7000]);
    } finally {
      await long.close();
    }
  });
});
