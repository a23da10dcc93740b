import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createProxy } from '../../src/proxy/index.ts';
import { buildSnapshot, echoUpstream, endpoints, request, startProxy } from './proxy-harness.ts';

function versioned(v: number) {
  return buildSnapshot({
    version: v,
    routes: [{ filters: [{ type: 'ResponseHeaderModifier', set: [{ name: 'x-version', value: String(v) }], add: [], remove: [] }] }],
  });
}

test('applying a new snapshot 50 times under continuous load fails no request', async (t) => {
  const up = await echoUpstream(t, (_q, res) => res.end('ok'));
  const { proxy, port } = await startProxy(t, versioned(0), endpoints({ b: [up.port] }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());
  let running = true;
  const failures: string[] = [];
  const versions = new Set<string>();
  let done = 0;
  const client = async () => {
    while (running) {
      try {
        const r = await request(port, { agent, path: '/load' });
        if (r.status !== 200) failures.push(`status ${r.status}`);
        versions.add(String(r.headers['x-version']));
        done++;
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const clients = Array.from({ length: 8 }, client);
  for (let v = 1; v <= 50; v++) {
    const before = done;
    const result = await proxy.apply(versioned(v));
    assert.deepEqual(result.errors, []);
    assert.equal(result.bound[0].port, port, 'the socket is kept');
    while (done < before + 5) await new Promise((r) => setImmediate(r));
  }
  running = false;
  await Promise.all(clients);
  assert.deepEqual(failures, []);
  assert.ok(done > 250, `${done} requests`);
  assert.ok(versions.size > 10, `saw ${versions.size} versions`);
  assert.equal((await request(port)).headers['x-version'], '50');
});

test('endpoint updates and snapshot swaps keep pooled upstream connections', async (t) => {
  const a = await echoUpstream(t, (_q, res) => res.end('a'));
  const b = await echoUpstream(t, (_q, res) => res.end('b'));
  let aConnections = 0;
  a.server.on('connection', () => aConnections++);
  const { proxy, port } = await startProxy(t, versioned(0), endpoints({ b: [a.port] }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  for (let i = 0; i < 5; i++) assert.equal((await request(port, { agent })).body, 'a');
  assert.equal(aConnections, 1);
  proxy.setEndpoints(endpoints({ b: [a.port, b.port] }));
  const bodies: string[] = [];
  for (let i = 0; i < 6; i++) bodies.push((await request(port, { agent })).body);
  assert.equal(bodies.filter((x) => x === 'a').length, 3);
  assert.equal(bodies.filter((x) => x === 'b').length, 3);
  await proxy.apply(versioned(1));
  for (let i = 0; i < 4; i++) await request(port, { agent });
  assert.equal(aConnections, 1, 'no new upstream connection to an endpoint that stayed');
  proxy.setEndpoints(endpoints({ b: [b.port] }));
  for (let i = 0; i < 4; i++) assert.equal((await request(port, { agent })).body, 'b');
});

test('a socket that cannot bind is reported and the others keep serving; removed sockets close', async (t) => {
  const up = await echoUpstream(t, (_q, res) => res.end('ok'));
  const blocker = http.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => blocker.close());
  const busy = (blocker.address() as { port: number }).port;
  const base = versioned(0);
  const second = { ...base.sockets[0], key: `127.0.0.1:${busy}`, bindPort: busy };
  const proxy = createProxy();
  t.after(() => proxy.drain(0));
  proxy.setEndpoints(endpoints({ b: [up.port] }));
  const result = await proxy.apply({ ...base, sockets: [base.sockets[0], second] });
  assert.equal(result.errors.length, 1);
  assert.equal(result.errors[0].socket, `127.0.0.1:${busy}`);
  assert.match(result.errors[0].message, /EADDRINUSE/);
  assert.equal(result.bound.length, 1);
  const port = result.bound[0].port;
  assert.equal((await request(port)).status, 200);

  const other = { ...base.sockets[0], key: '127.0.0.1:0#2' };
  const next = await proxy.apply({ ...base, hash: 'x', sockets: [other] });
  assert.equal(next.bound.length, 1);
  assert.notEqual(next.bound[0].port, port);
  assert.equal((await request(next.bound[0].port, { agent: false })).status, 200);
  await assert.rejects(request(port, { agent: false }));
});
