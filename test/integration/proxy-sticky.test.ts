/** Sticky splits (RuleSpec.sticky): a user's header or cookie decides stable or candidate, always the same way. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { HashOn, StickySplit } from '../../src/snapshot/index.ts';
import { buildSnapshot, endpoints, namedUpstream, request, startProxy } from './proxy-harness.ts';

function sticky(percent: number, hashOn: HashOn = { type: 'Header', name: 'X-User' }): StickySplit {
  return { percent, hashOn, stableBackendId: 's', candidateBackendId: 'c' };
}

function snapshot(split: StickySplit, version = 0) {
  return buildSnapshot({
    version,
    backends: { s: 'http1', c: 'http1' },
    routes: [{
      sticky: split,
      // Declared weights would send everything to stable: the sticky split replaces them.
      backends: [
        { id: 's', weight: 100 },
        { id: 'c', weight: 0, filters: [{ type: 'ResponseHeaderModifier', set: [{ name: 'x-copy', value: 'candidate' }], add: [], remove: [] }] },
      ],
    }],
  });
}

async function setup(t: TestContext, split: StickySplit) {
  const s = await namedUpstream(t, 'stable');
  const c = await namedUpstream(t, 'candidate');
  const started = await startProxy(t, snapshot(split), endpoints({ s: [s.port], c: [c.port] }));
  return { ...started, s, c };
}

test('percent 30: about 30% of users reach the candidate, each user always the same copy, across reloads', async (t) => {
  const { proxy, port } = await setup(t, sticky(30));
  const copyOf = new Map<string, string>();
  for (let u = 0; u < 200; u++) {
    const user = `user-${u}`;
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await request(port, { headers: { 'x-user': user } });
      assert.equal(r.status, 200);
      seen.add(r.body);
      if (r.body === 'candidate') assert.equal(r.headers['x-copy'], 'candidate', 'the candidate entry\'s filters apply');
      else assert.equal(r.headers['x-copy'], undefined);
      assert.equal(r.headers['set-cookie'], undefined);
    }
    assert.equal(seen.size, 1, `${user} reached ${[...seen].join(' and ')}`);
    copyOf.set(user, [...seen][0]);
  }
  const candidates = [...copyOf.values()].filter((v) => v === 'candidate').length;
  assert.ok(candidates >= 44 && candidates <= 76, `${candidates} of 200 users on the candidate`);

  await proxy.apply(snapshot(sticky(30), 1));
  for (const user of ['user-0', 'user-1', 'user-2', 'user-3', 'user-4', 'user-5']) {
    assert.equal((await request(port, { headers: { 'x-user': user } })).body, copyOf.get(user), `${user} after a reload`);
  }
  // Raising the share only moves stable users to the candidate.
  await proxy.apply(snapshot(sticky(60), 2));
  for (let u = 0; u < 40; u++) {
    const user = `user-${u}`;
    const now = (await request(port, { headers: { 'x-user': user } })).body;
    if (copyOf.get(user) === 'candidate') assert.equal(now, 'candidate', `${user} stays on the candidate`);
  }
});

test('a request without the header goes to stable; percent 0 sends nobody, 100 everybody', async (t) => {
  const { proxy, port } = await setup(t, sticky(50));
  for (let i = 0; i < 20; i++) assert.equal((await request(port)).body, 'stable');

  await proxy.apply(snapshot(sticky(0), 1));
  for (let u = 0; u < 50; u++) assert.equal((await request(port, { headers: { 'x-user': `u${u}` } })).body, 'stable');

  await proxy.apply(snapshot(sticky(100), 2));
  for (let u = 0; u < 50; u++) assert.equal((await request(port, { headers: { 'x-user': `u${u}` } })).body, 'candidate');
  assert.equal((await request(port)).body, 'stable', 'no header: stable even at 100');
});

test('cookie splits: the cookie value decides, a request without it goes to stable and gets no cookie', async (t) => {
  const { port } = await setup(t, sticky(50, { type: 'Cookie', name: 'uid', ttlSeconds: 0, path: '/' }));
  const copies = new Set<string>();
  for (let u = 0; u < 40; u++) {
    const cookie = `theme=dark; uid=${u}`;
    const first = (await request(port, { headers: { cookie } })).body;
    assert.equal((await request(port, { headers: { cookie } })).body, first);
    copies.add(first);
  }
  assert.deepEqual([...copies].sort(), ['candidate', 'stable']);
  const anon = await request(port);
  assert.equal(anon.body, 'stable');
  assert.equal(anon.headers['set-cookie'], undefined);
});
