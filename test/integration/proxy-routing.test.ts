import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSnapshot, echoUpstream, endpoints, rawRequest, request, startProxy, type Seen } from './proxy-harness.ts';
import { seededRandom } from '../../src/lib/index.ts';

test('path normalisation: what the upstream receives', async (t) => {
  const up = await echoUpstream(t);
  const snap = buildSnapshot({ routes: [{ path: { type: 'PathPrefix', value: '/admin' } }, { path: { type: 'PathPrefix', value: '/A' } }, { path: { type: 'PathPrefix', value: '/a' } }] });
  const { port } = await startProxy(t, snap, endpoints({ b: [up.port] }));
  const table: [string, number, string | null][] = [
    ['/a/../admin', 200, '/admin'],
    ['/a/%2e%2e/admin', 200, '/admin'],
    ['/a%2Fadmin', 400, null],
    ['//admin//x', 200, '/admin/x'],
    ['/%41/b', 200, '/A/b'],
    ['/admin#frag', 200, '/admin'],
    ['/admin/%3a?x=%2F', 200, '/admin/%3A?x=%2F'],
    ['/a/%00', 400, null],
  ];
  for (const [target, status, want] of table) {
    const raw = await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
    assert.match(raw, new RegExp(`^HTTP/1.1 ${status}`), target);
    if (want !== null) assert.equal((JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Seen).url, want, target);
  }
  const abs = await rawRequest(port, 'GET http://Other.Example/a/../admin HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  const seen = JSON.parse(abs.slice(abs.indexOf('\r\n\r\n') + 4)) as Seen;
  assert.equal(seen.url, '/admin');
  assert.equal(seen.headers.host, 'other.example');
  const star = await rawRequest(port, 'OPTIONS * HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  assert.match(star, /^HTTP\/1\.1 400/);
  assert.equal(up.seen.some((s) => s.url.split('?')[0].includes('%2F')), false);
});

test('host, header, query and method matching choose the route; virtual hosts do not fall through', async (t) => {
  const up = await echoUpstream(t);
  const snap = buildSnapshot({
    backends: { b: 'http1' },
    routes: [
      { vhost: 'api.example.com', path: { type: 'Exact', value: '/x' }, filters: [{ type: 'ResponseHeaderModifier', set: [{ name: 'x-route', value: 'exact-api' }], add: [], remove: [] }] },
      { vhost: '*.example.com', headers: [{ name: 'X-Canary', type: 'Exact', value: 'yes' }], filters: [{ type: 'ResponseHeaderModifier', set: [{ name: 'x-route', value: 'canary' }], add: [], remove: [] }] },
      { vhost: '*.example.com', query: [{ name: 'v', type: 'RegularExpression', value: '[0-9]+' }], method: 'GET', filters: [{ type: 'ResponseHeaderModifier', set: [{ name: 'x-route', value: 'query' }], add: [], remove: [] }] },
      { vhost: '*', filters: [{ type: 'ResponseHeaderModifier', set: [{ name: 'x-route', value: 'any' }], add: [], remove: [] }] },
    ],
  });
  const { port } = await startProxy(t, snap, endpoints({ b: [up.port] }));
  const route = async (host: string, path: string, headers: Record<string, string> = {}) => (await request(port, { path, headers: { host, ...headers } }));
  assert.equal((await route('API.example.com.', '/x')).headers['x-route'], 'exact-api');
  assert.equal((await route('api.example.com', '/y')).status, 404, 'no fall-through from the exact vhost');
  assert.equal((await route('w.example.com', '/y', { 'x-canary': 'yes' })).headers['x-route'], 'canary');
  assert.equal((await route('w.example.com', '/y?v=12')).headers['x-route'], 'query');
  assert.equal((await route('w.example.com', '/y?v=ab')).status, 404);
  assert.equal((await route('other.org', '/y')).headers['x-route'], 'any');
});

test('filters: header modifiers, redirect, URL rewrite, per-backend filters, in declared order', async (t) => {
  const up = await echoUpstream(t);
  const snap = buildSnapshot({
    listenerPort: 8080,
    routes: [
      {
        path: { type: 'PathPrefix', value: '/hdr' },
        filters: [
          { type: 'RequestHeaderModifier', set: [{ name: 'X-Set', value: 'set' }], add: [{ name: 'x-add', value: 'two' }], remove: ['x-remove'] },
          { type: 'ResponseHeaderModifier', set: [{ name: 'x-resp', value: 'r' }], add: [{ name: 'x-multi', value: 'b' }], remove: ['x-upstream-secret'] },
        ],
        backends: [{ id: 'b', filters: [{ type: 'RequestHeaderModifier', set: [{ name: 'x-backend', value: 'b' }], add: [], remove: [] }] }],
      },
      { path: { type: 'PathPrefix', value: '/old' }, filters: [{ type: 'RequestRedirect', scheme: 'https', path: { type: 'ReplacePrefixMatch', value: '/new' }, statusCode: 301 }] },
      { path: { type: 'PathPrefix', value: '/host' }, filters: [{ type: 'RequestRedirect', hostname: 'other.example', statusCode: 302 }] },
      { path: { type: 'PathPrefix', value: '/port' }, filters: [{ type: 'RequestRedirect', scheme: 'http', port: 8081, path: { type: 'ReplaceFullPath', value: '/full' }, statusCode: 308 }] },
      { path: { type: 'PathPrefix', value: '/foo' }, filters: [{ type: 'URLRewrite', hostname: 'internal.svc', path: { type: 'ReplacePrefixMatch', value: '/bar' } }] },
      { path: { type: 'PathPrefix', value: '/root' }, filters: [{ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/' } }] },
      { path: { type: 'PathPrefix', value: '/whole' }, filters: [{ type: 'URLRewrite', path: { type: 'ReplaceFullPath', value: '/replaced' } }] },
    ],
  });
  up.server.removeAllListeners('request');
  up.server.on('request', (req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('x-upstream-secret', 's');
      res.setHeader('x-multi', 'a');
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
  });
  const { port } = await startProxy(t, snap, endpoints({ b: [up.port] }));
  const hdr = await request(port, { path: '/hdr', headers: { 'x-set': 'client', 'x-add': 'one', 'x-remove': 'gone', host: 'h.example' } });
  const seen = JSON.parse(hdr.body) as Seen;
  assert.equal(seen.headers['x-set'], 'set');
  assert.equal(seen.headers['x-add'], 'one,two');
  assert.equal(seen.headers['x-remove'], undefined);
  assert.equal(seen.headers['x-backend'], 'b');
  assert.equal(hdr.headers['x-resp'], 'r');
  assert.equal(hdr.headers['x-multi'], 'a,b');
  assert.equal(hdr.headers['x-upstream-secret'], undefined);

  const r1 = await request(port, { path: '/old/x?y=1', headers: { host: 'Shop.Example:8080' } });
  assert.equal(r1.status, 301);
  assert.equal(r1.headers.location, 'https://shop.example/new/x?y=1');
  const r2 = await request(port, { path: '/host/a', headers: { host: 'shop.example' } });
  assert.equal(r2.status, 302);
  assert.equal(r2.headers.location, 'http://other.example:8080/host/a');
  const r3 = await request(port, { path: '/port/a', headers: { host: 'shop.example' } });
  assert.equal(r3.status, 308);
  assert.equal(r3.headers.location, 'http://shop.example:8081/full');

  const rw = JSON.parse((await request(port, { path: '/foo/baz?q=1', headers: { host: 'public.example' } })).body) as Seen;
  assert.equal(rw.url, '/bar/baz?q=1');
  assert.equal(rw.headers.host, 'internal.svc');
  assert.equal(rw.headers['x-forwarded-host'], 'public.example');
  assert.equal((JSON.parse((await request(port, { path: '/foo' })).body) as Seen).url, '/bar');
  assert.equal((JSON.parse((await request(port, { path: '/root/baz' })).body) as Seen).url, '/baz');
  assert.equal((JSON.parse((await request(port, { path: '/root' })).body) as Seen).url, '/');
  assert.equal((JSON.parse((await request(port, { path: '/whole/x/y' })).body) as Seen).url, '/replaced');
});

test('weighted split: weight 0 never chosen, 80/20 within tolerance, invalid share answers 500', async (t) => {
  const a = await echoUpstream(t, (_q, res) => res.end('a'));
  const b = await echoUpstream(t, (_q, res) => res.end('b'));
  const c = await echoUpstream(t, (_q, res) => res.end('c'));
  const snap = buildSnapshot({
    backends: { a: 'http1', b: 'http1', c: 'http1' },
    routes: [
      { path: { type: 'PathPrefix', value: '/split' }, backends: [{ id: 'a', weight: 80 }, { id: 'b', weight: 20 }, { id: 'c', weight: 0 }] },
      { path: { type: 'PathPrefix', value: '/half' }, backends: [{ id: 'a', weight: 1 }, { id: null, weight: 1, invalidReason: 'RefNotPermitted' }] },
    ],
  });
  const { port } = await startProxy(t, snap, endpoints({ a: [a.port], b: [b.port], c: [c.port] }), { random: seededRandom(7) });
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  const results = await Promise.all(Array.from({ length: 1000 }, () => request(port, { path: '/split' })));
  for (const r of results) counts[r.body]++;
  assert.equal(counts.c, 0);
  assert.ok(counts.a > 750 && counts.a < 850, `a got ${counts.a}`);
  assert.equal(counts.a + counts.b, 1000);
  const half = await Promise.all(Array.from({ length: 400 }, () => request(port, { path: '/half' })));
  const errors = half.filter((r) => r.status === 500);
  assert.ok(errors.length > 150 && errors.length < 250, `500s: ${errors.length}`);
  assert.match(errors[0].body, /invalid backendRef: RefNotPermitted/);
});

test('round robin spreads requests over ready endpoints only', async (t) => {
  const ups = await Promise.all([0, 1, 2].map((i) => echoUpstream(t, (_q, res) => res.end(String(i)))));
  const eps = endpoints({ b: ups.map((u) => u.port) });
  const list = [...eps.get('b')!];
  list[2] = { ...list[2], ready: false };
  const { port } = await startProxy(t, buildSnapshot({ routes: [{}] }), new Map([['b', list]]));
  const bodies = [];
  for (let i = 0; i < 10; i++) bodies.push((await request(port)).body);
  assert.equal(bodies.filter((b) => b === '0').length, 5);
  assert.equal(bodies.filter((b) => b === '1').length, 5);
});
