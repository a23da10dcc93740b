/** resolveBackendEndpoints: union of a Backend's sources, deduplicated (first source wins), filtered by subset labels. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DiscoveryPlan, Endpoint } from '../snapshot/index.ts';
import { resolveBackendEndpoints } from './index.ts';

const ep = (address: string, port: number, labels: Record<string, string>): Endpoint => ({ address, port, ready: true, labels });

const sources: Record<string, Endpoint[]> = {
  vm: [ep('10.0.0.1', 80, { 'ferry.dev/platform': 'vm', version: 'v1' }), ep('10.0.0.2', 80, { 'ferry.dev/platform': 'vm', version: 'v1' })],
  east: [ep('10.1.0.1', 8080, { 'ferry.dev/platform': 'kubernetes', 'ferry.dev/cluster': 'east', version: 'v2' })],
  // The same address as a VM endpoint, seen by a second source (a hand-written slice, say).
  dup: [ep('10.0.0.1', 80, { 'ferry.dev/platform': 'kubernetes', version: 'v9' }), ep('10.0.0.1', 81, { version: 'v1' })],
};

const plan = (backends: DiscoveryPlan['backends']): DiscoveryPlan => ({ clusters: [], sources: [], backends });
const lookup = (key: string) => sources[key];
const show = (list: readonly Endpoint[] | undefined) => (list ?? []).map((e) => `${e.address}:${e.port} ${e.labels.version}`);

test('the union of sources in plan order, deduplicated by address:port with the first source winning', () => {
  const out = resolveBackendEndpoints(plan({ 'Backend/shop/web': { sources: ['vm', 'east', 'dup'], matchLabels: {} } }), lookup);
  assert.deepEqual(show(out.get('Backend/shop/web')), ['10.0.0.1:80 v1', '10.0.0.2:80 v1', '10.1.0.1:8080 v2', '10.0.0.1:81 v1']);
  const reversed = resolveBackendEndpoints(plan({ b: { sources: ['dup', 'vm'], matchLabels: {} } }), lookup);
  assert.deepEqual(show(reversed.get('b')), ['10.0.0.1:80 v9', '10.0.0.1:81 v1', '10.0.0.2:80 v1']);
});

test('matchLabels keeps only endpoints carrying every label; a duplicate dropped by dedupe does not come back', () => {
  const out = resolveBackendEndpoints(plan({
    v1: { sources: ['vm', 'east', 'dup'], matchLabels: { version: 'v1' } },
    k8s: { sources: ['vm', 'east'], matchLabels: { 'ferry.dev/platform': 'kubernetes', 'ferry.dev/cluster': 'east' } },
    v9: { sources: ['vm', 'dup'], matchLabels: { version: 'v9' } },
  }), lookup);
  assert.deepEqual(show(out.get('v1')), ['10.0.0.1:80 v1', '10.0.0.2:80 v1', '10.0.0.1:81 v1']);
  assert.deepEqual(show(out.get('k8s')), ['10.1.0.1:8080 v2']);
  assert.deepEqual(show(out.get('v9')), [], 'the vm source owns 10.0.0.1:80');
});

test('unknown sources contribute nothing; every Backend gets an entry', () => {
  const out = resolveBackendEndpoints(plan({ a: { sources: ['missing'], matchLabels: {} }, b: { sources: [], matchLabels: {} }, c: { sources: ['missing', 'east'], matchLabels: {} } }), lookup);
  assert.deepEqual([...out.keys()], ['a', 'b', 'c']);
  assert.deepEqual(out.get('a'), []);
  assert.deepEqual(out.get('b'), []);
  assert.deepEqual(show(out.get('c')), ['10.1.0.1:8080 v2']);
});
