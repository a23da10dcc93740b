import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteEntry, MatchSpec } from '../../snapshot/index.ts';
import { RouteTable, type MatchInput } from './route-table.ts';
import { HostIndex, canonicalHost } from './host.ts';

function entry(i: number, match: Partial<MatchSpec>): RouteEntry {
  return { routeId: `r${i}`, kind: 'HTTPRoute', ruleId: `rule${i}`, matchIndex: 0, match: { headers: [], queryParams: [], ...match } };
}

function input(path: string, extra: Partial<MatchInput> = {}): MatchInput {
  return { path, method: 'GET', headers: [], query: '', ...extra };
}

function tables(entries: RouteEntry[]): RouteTable<string>[] {
  const small = new RouteTable(entries, (e) => e.routeId);
  const padding = Array.from({ length: 40 }, (_, i) => entry(1000 + i, { path: { type: 'Exact', value: `/pad/${i}` } }));
  const big = new RouteTable([...entries, ...padding], (e) => e.routeId);
  return [small, big];
}

test('first entry in list order wins, with and without the index', () => {
  const entries = [
    entry(0, { path: { type: 'Exact', value: '/a/b' }, method: 'POST' }),
    entry(1, { path: { type: 'PathPrefix', value: '/a' }, headers: [{ name: 'x-v', type: 'Exact', value: '2' }] }),
    entry(2, { path: { type: 'RegularExpression', value: '/a/[0-9]+' } }),
    entry(3, { path: { type: 'PathPrefix', value: '/a/b' } }),
    entry(4, { path: { type: 'PathPrefix', value: '/' }, queryParams: [{ name: 'q', type: 'Exact', value: 'x y' }] }),
    entry(5, { queryParams: [{ name: 'debug', type: 'RegularExpression', value: 'on|yes' }] }),
    entry(6, { path: { type: 'PathPrefix', value: '/' } }),
  ];
  for (const t of tables(entries)) {
    assert.equal(t.find(input('/a/b', { method: 'POST' }))?.entry.routeId, 'r0');
    assert.equal(t.find(input('/a/b'))?.entry.routeId, 'r3');
    assert.equal(t.find(input('/a/b/c', { headers: ['x-v', '2'] }))?.entry.routeId, 'r1');
    assert.equal(t.find(input('/a/12'))?.entry.routeId, 'r2');
    assert.equal(t.find(input('/a/bc'))?.entry.routeId, 'r6');
    assert.equal(t.find(input('/ab'))?.entry.routeId, 'r6');
    assert.equal(t.find(input('/z', { query: '?debug=yes' }))?.entry.routeId, 'r5');
    assert.equal(t.find(input('/z', { query: '?debug=nope' }))?.entry.routeId, 'r6');
    assert.equal(t.find(input('/a/b/', { method: 'PUT' }))?.entry.routeId, 'r3');
    assert.equal(t.find(input('/q', { query: '?q=x%20y' }))?.entry.routeId, 'r4');
  }
});

test('10,000 routes: matching uses the indexes and keeps precedence', () => {
  const entries: RouteEntry[] = [];
  for (let i = 0; i < 5000; i++) entries.push(entry(i, { path: { type: 'Exact', value: `/svc/${i}/exact` } }));
  for (let i = 0; i < 5000; i++) entries.push(entry(5000 + i, { path: { type: 'PathPrefix', value: `/svc/${i}` } }));
  entries.push(entry(10_000, { path: { type: 'PathPrefix', value: '/' } }));
  const t = new RouteTable(entries, (e) => e.routeId);
  const start = process.hrtime.bigint();
  for (let i = 0; i < 10_000; i++) {
    const n = i % 5000;
    assert.equal(t.find(input(`/svc/${n}/exact`))?.entry.routeId, `r${n}`);
    assert.equal(t.find(input(`/svc/${n}/other`))?.entry.routeId, `r${5000 + n}`);
  }
  const perLookupUs = Number(process.hrtime.bigint() - start) / 20_000 / 1000;
  assert.equal(t.find(input('/else'))?.entry.routeId, 'r10000');
  assert.ok(perLookupUs < 50, `lookup took ${perLookupUs} µs`);
});

test('hosts: canonical form and most specific match in list order', () => {
  assert.equal(canonicalHost('Api.Example.COM.:8080'), 'api.example.com');
  assert.equal(canonicalHost('[::1]:80'), '[::1]');
  const idx = new HostIndex(['a.example.com', '*.example.com', '*'], (h) => h);
  assert.equal(idx.find('a.example.com'), 'a.example.com');
  assert.equal(idx.find('b.c.example.com'), '*.example.com');
  assert.equal(idx.find('example.com'), '*');
  const noAny = new HostIndex(['*.example.com'], (h) => h);
  assert.equal(noAny.find('example.org'), undefined);
});
