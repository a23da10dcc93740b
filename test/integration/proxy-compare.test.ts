/** Mirror response comparison: captured answers published as MirrorSamples, never touching the primary. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { MirrorCompare, RequestMirrorFilter } from '../../src/snapshot/index.ts';
import {
  buildSnapshot, echoUpstream, endpoints, eventually, manualClock, mirrorFilter, recordMirrorSamples, request, startProxy,
  type Upstream,
} from './proxy-harness.ts';
import type { ProxyOptions } from '../../src/proxy/index.ts';

const compare: MirrorCompare = { key: 'default/shop', noise: false };
const primaryBody = Buffer.alloc(300_000, 'p').toString();

/** Two routes on one primary: `/m/...` mirrored with compare to `m`, `/plain/...` not mirrored. */
async function setup(t: TestContext, filter: Partial<RequestMirrorFilter>, opts: { primaries?: number; mirror?: (req: http.IncomingMessage, res: http.ServerResponse) => void; proxy?: ProxyOptions } = {}) {
  const primaries: Upstream[] = [];
  for (let i = 0; i < (opts.primaries ?? 1); i++) {
    primaries.push(await echoUpstream(t, (_q, res) => {
      res.statusCode = 201;
      res.setHeader('x-served-by', 'primary');
      res.setHeader('content-type', 'text/plain');
      res.end(primaryBody);
    }));
  }
  const mirror = await echoUpstream(t, opts.mirror ?? ((_q, res) => {
    res.statusCode = 202;
    res.setHeader('x-served-by', 'candidate');
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.end('candidate says hi');
  }));
  const samples = recordMirrorSamples(t);
  const snap = buildSnapshot({
    backends: { b: 'http1', m: 'http1' },
    routes: [
      { path: { type: 'PathPrefix', value: '/m' }, filters: [mirrorFilter({ compare, ...filter })] },
      { path: { type: 'PathPrefix', value: '/plain' } },
    ],
  });
  const { port } = await startProxy(t, snap, endpoints({ b: primaries.map((p) => p.port), m: [mirror.port] }), opts.proxy);
  return { primaries, mirror, samples, port };
}

function comparable(headers: http.IncomingHttpHeaders) {
  const { date: _d, 'x-request-id': _r, ...rest } = headers;
  return rest;
}

test('a compared request publishes both answers as sent by the upstreams; the client response is untouched', async (t) => {
  const { samples, port } = await setup(t, {});
  const mirrored = await request(port, { path: '/m/items?x=1' });
  const plain = await request(port, { path: '/plain/items?x=1' });
  assert.equal(mirrored.status, 201);
  assert.equal(mirrored.body, primaryBody);
  assert.deepEqual(comparable(mirrored.headers), comparable(plain.headers));
  assert.equal(mirrored.body, plain.body);

  await eventually(() => samples.length === 1);
  const s = samples[0];
  assert.equal(s.key, 'default/shop');
  assert.equal(s.routeId, 'HTTPRoute/default/r0');
  assert.equal(s.ruleId, 'HTTPRoute/default/r0/rule/0');
  assert.equal(s.method, 'GET');
  assert.equal(s.path, '/m/items');
  assert.equal(s.backend, 'm');
  assert.equal(s.primary.status, 201);
  assert.equal(s.primary.headers['x-served-by'], 'primary');
  assert.equal(s.primary.headers['content-type'], 'text/plain');
  assert.equal(s.primary.body.toString(), primaryBody);
  assert.equal(s.primary.truncated, false);
  assert.equal(s.primary.error, undefined);
  assert.equal(s.candidate.status, 202);
  assert.equal(s.candidate.headers['x-served-by'], 'candidate');
  assert.equal(s.candidate.headers['set-cookie'], 'a=1, b=2');
  assert.equal(s.candidate.body.toString(), 'candidate says hi');
  assert.equal(s.candidate.truncated, false);
  assert.equal(s.secondary, undefined);
  assert.ok(s.primary.durationMs >= 0 && s.candidate.durationMs >= 0);

  await request(port, { path: '/plain/again' });
  assert.equal(samples.length, 1, 'no sample for requests that are not mirrored');
});

test('bodies beyond maxBodyBytes are captured up to the limit and marked truncated', async (t) => {
  const { samples, port } = await setup(t, { maxBodyBytes: 10 });
  const r = await request(port, { path: '/m/big' });
  assert.equal(r.body, primaryBody, 'the client still gets everything');
  await eventually(() => samples.length === 1);
  const s = samples[0];
  assert.equal(s.primary.body.toString(), 'pppppppppp');
  assert.equal(s.primary.truncated, true);
  assert.equal(s.candidate.body.toString(), 'candidate ');
  assert.equal(s.candidate.truncated, true);
  // Exactly at the limit is not truncated.
  const exact = await setup(t, { maxBodyBytes: 'candidate says hi'.length });
  await request(exact.port, { path: '/m/exact' });
  await eventually(() => exact.samples.length >= 1);
  const e = exact.samples.find((x) => x.path === '/m/exact')!;
  assert.equal(e.candidate.truncated, false);
  assert.equal(e.candidate.body.toString(), 'candidate says hi');
});

test('noise: safe methods get a second call to the primary backend on another endpoint; POST does not', async (t) => {
  const { primaries, samples, port } = await setup(t, { compare: { ...compare, noise: true }, allowUnsafeMethods: true }, { primaries: 2 });
  await request(port, { path: '/m/get' });
  await eventually(() => samples.length === 1);
  const s = samples[0];
  assert.ok(s.secondary !== undefined, 'secondary present');
  assert.equal(s.secondary.status, 201);
  assert.equal(s.secondary.body.toString(), primaryBody);
  assert.deepEqual(primaries.map((p) => p.seen.length), [1, 1], 'the second call went to the other endpoint');

  const post = await request(port, { method: 'POST', path: '/m/post', body: 'order' });
  assert.equal(post.status, 201);
  await eventually(() => samples.length === 2);
  assert.equal(samples[1].method, 'POST');
  assert.equal(samples[1].secondary, undefined);
  assert.equal(primaries[0].seen.length + primaries[1].seen.length, 3, 'no second call for POST');
});

test('a hanging compared mirror never delays the primary; its sample reports the timeout', async (t) => {
  const clock = manualClock();
  const hanging: http.ServerResponse[] = [];
  const { mirror, samples, port } = await setup(t, {}, { mirror: (_q, res) => { hanging.push(res); }, proxy: { clock } });
  t.after(() => { for (const res of hanging) res.end(); });
  const started = performance.now();
  const r = await request(port, { path: '/m/slow' });
  const took = performance.now() - started;
  assert.equal(r.status, 201);
  assert.equal(r.body, primaryBody);
  assert.ok(took < 1000, `primary answered in ${took.toFixed(1)} ms`);
  await eventually(() => mirror.seen.length === 1);
  assert.equal(samples.length, 0, 'nothing published while the mirror hangs');
  clock.advance(30_000);
  await eventually(() => samples.length === 1);
  assert.equal(samples[0].candidate.error, 'upstream_timeout');
  assert.equal(samples[0].primary.status, 201);
  assert.equal(samples[0].primary.error, undefined);
});

test('without a mirrorChannel subscriber nothing is captured or published', async (t) => {
  const primary = await echoUpstream(t, (_q, res) => res.end('p'));
  const mirror = await echoUpstream(t, (_q, res) => res.end('m'));
  const snap = buildSnapshot({ backends: { b: 'http1', m: 'http1' }, routes: [{ filters: [mirrorFilter({ compare: { key: 'k', noise: true } })] }] });
  const { port } = await startProxy(t, snap, endpoints({ b: [primary.port], m: [mirror.port] }));
  await request(port, { path: '/x' });
  await eventually(() => mirror.seen.length === 1);
  assert.equal(primary.seen.length, 1, 'no noise call when nobody compares');
});
