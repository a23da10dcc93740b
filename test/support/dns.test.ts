/** The dnsmasq-backed DNS server helper: answers, reloads, SRV restarts, stop and start. */
import assert from 'node:assert/strict';
import { promises as dns } from 'node:dns';
import { after, describe, test } from 'node:test';
import { findDnsmasq, startDnsServer } from './dns.ts';
import type { DnsServer } from './dns.ts';
import { eventually } from './eventually.ts';

/** Node 24 adds `type: 'SRV'` to each record; compare the record fields only. */
const srv = (list: { name: string; port: number; priority: number; weight: number }[]) =>
  list.map(({ name, port, priority, weight }) => ({ name, port, priority, weight }));

const skip = !findDnsmasq() && !process.env.CI ? 'dnsmasq not installed (apt-get install dnsmasq-base)' : false;

describe('startDnsServer', { skip }, () => {
  let server: DnsServer;
  const resolver = () => {
    const r = new dns.Resolver({ timeout: 500, tries: 1 });
    r.setServers([server.server]);
    return r;
  };
  after(() => server?.close());

  test('serves A, AAAA and SRV with the configured TTL, NXDOMAIN otherwise', async () => {
    server = await startDnsServer({
      records: {
        A: { 'web.ferry.test': ['10.0.0.1', '10.0.0.2'], 'db.ferry.test': ['10.0.1.1'] },
        AAAA: { 'web6.ferry.test': ['fd00::1'] },
        SRV: { '_http._tcp.api.ferry.test': [{ target: 'db.ferry.test', port: 8080, priority: 1, weight: 5 }] },
      },
      ttlSeconds: 2,
    });
    const r = resolver();
    assert.deepEqual((await r.resolve4('web.ferry.test', { ttl: true })).sort((a, b) => a.address.localeCompare(b.address)),
      [{ address: '10.0.0.1', ttl: 2 }, { address: '10.0.0.2', ttl: 2 }]);
    assert.deepEqual(await r.resolve6('web6.ferry.test'), ['fd00::1']);
    assert.deepEqual(srv(await r.resolveSrv('_http._tcp.api.ferry.test')), [{ name: 'db.ferry.test', port: 8080, priority: 1, weight: 5 }]);
    await assert.rejects(r.resolve4('missing.ferry.test'), { code: 'ENOTFOUND' });
  });

  test('update reloads addresses and restarts for SRV changes on the same port', async () => {
    const port = server.port;
    await server.update({
      A: { 'web.ferry.test': ['10.0.0.3'], 'db.ferry.test': ['10.0.1.1'] },
      SRV: { '_http._tcp.api.ferry.test': [{ target: 'db.ferry.test', port: 9090 }] },
    });
    assert.equal(server.port, port);
    const r = resolver();
    assert.deepEqual(await r.resolve4('web.ferry.test'), ['10.0.0.3']);
    assert.deepEqual(srv(await r.resolveSrv('_http._tcp.api.ferry.test')), [{ name: 'db.ferry.test', port: 9090, priority: 0, weight: 0 }]);
    await server.update({ A: { 'web.ferry.test': ['10.0.0.4'], 'db.ferry.test': ['10.0.1.1'] }, SRV: { '_http._tcp.api.ferry.test': [{ target: 'db.ferry.test', port: 9090 }] } });
    assert.deepEqual(await r.resolve4('web.ferry.test'), ['10.0.0.4']);
  });

  test('stop makes queries fail; start answers again on the same address', async () => {
    await server.stop();
    await assert.rejects(resolver().resolve4('web.ferry.test'));
    await server.start();
    await eventually(async () => assert.deepEqual(await resolver().resolve4('web.ferry.test'), ['10.0.0.4']));
  });
});
