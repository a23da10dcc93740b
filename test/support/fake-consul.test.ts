/** The fake Consul agent: health answers, filters, blocking queries, index rules, ACLs, stop/start. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startFakeConsul } from './fake-consul.ts';
import type { FakeConsul } from './fake-consul.ts';
import { eventually } from './eventually.ts';

describe('startFakeConsul', () => {
  let consul: FakeConsul;
  after(() => consul?.close());

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(consul.address + path, { headers });
    // Test JSON: its shape is asserted field by field below.
    const body: any = res.status === 200 ? await res.json() : await res.text();
    return { status: res.status, index: Number(res.headers.get('x-consul-index')), body };
  };

  test('answers /v1/health/service with passing, tag and dc filters', async () => {
    consul = await startFakeConsul();
    consul.setService('web', [
      { id: 'a', address: '10.0.0.1', port: 80, tags: ['blue'], meta: { version: 'v1' }, passing: true },
      { id: 'b', address: '', port: 81, passing: false, node: { name: 'vm-b', address: '10.0.0.2' } },
    ]);
    const all = await get('/v1/health/service/web');
    assert.equal(all.status, 200);
    assert.equal(all.body.length, 2);
    assert.equal(all.body[1].Node.Address, '10.0.0.2');
    assert.equal(all.body[1].Checks[1].Status, 'critical');
    const passing = await get('/v1/health/service/web?passing=true');
    assert.deepEqual(passing.body.map((e: { Service: { ID: string } }) => e.Service.ID), ['a']);
    assert.equal(passing.body[0].Service.Meta.version, 'v1');
    assert.equal((await get('/v1/health/service/web?tag=red')).body.length, 0);
    assert.equal((await get('/v1/health/service/web?dc=dc1&tag=blue')).body.length, 1);
    assert.equal((await get('/v1/health/service/web?dc=elsewhere')).status, 500);
    assert.ok(passing.index > 0);
    assert.equal(consul.requests.at(-1)!.query.dc, 'elsewhere');
  });

  test('holds a blocking query until the index moves, and answers unchanged when wait expires', async () => {
    const first = await get('/v1/health/service/web');
    const expired = await get(`/v1/health/service/web?index=${first.index}&wait=50ms`);
    assert.equal(expired.index, first.index);
    const held = get(`/v1/health/service/web?index=${first.index}&wait=1m`);
    await eventually(() => consul.openQueries === 1);
    consul.setService('web', [{ id: 'c', address: '10.0.0.3', port: 80, passing: true }]);
    const moved = await held;
    assert.ok(moved.index > first.index);
    assert.equal(moved.body[0].Service.ID, 'c');
  });

  test('breakConnections destroys held queries; forceIndexBackwards answers with a lower index', async () => {
    const { index } = await get('/v1/health/service/web');
    const broken = get(`/v1/health/service/web?index=${index}&wait=1m`);
    await eventually(() => consul.openQueries === 1);
    consul.breakConnections();
    await assert.rejects(broken);
    const held = get(`/v1/health/service/web?index=${index}&wait=1m`);
    await eventually(() => consul.openQueries === 1);
    consul.forceIndexBackwards();
    assert.ok((await held).index < index);
  });

  test('stop refuses connections, start serves again on the same address', async () => {
    await consul.stop();
    await assert.rejects(get('/v1/health/service/web'));
    await consul.start();
    assert.equal((await get('/v1/health/service/web')).status, 200);
  });

  test('answers 403 without the configured token', async () => {
    const acl = await startFakeConsul({ token: 's3cret' });
    try {
      const res = await fetch(`${acl.address}/v1/health/service/web`);
      assert.equal(res.status, 403);
      const ok = await fetch(`${acl.address}/v1/health/service/web`, { headers: { 'x-consul-token': 's3cret' } });
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), []);
    } finally {
      await acl.close();
    }
  });
});
