import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLastGoodStore, type StoredResource } from './last-good.ts';
import type { ConfigError } from '../lib/index.ts';

const res = (kind: string, name: string, file: string, v = 1) =>
  ({ kind, metadata: { name, namespace: 'default' }, source: { file }, v }) as StoredResource & { v: number };
const err = (file: string, kind?: string, name?: string): ConfigError =>
  ({ file, line: 1, column: 1, kind, namespace: 'default', name, field: '', message: 'bad', severity: 'error' });

test('a resource that becomes invalid keeps its last good version', () => {
  const store = createLastGoodStore<ReturnType<typeof res>>();
  store.merge({ resources: [res('HTTPRoute', 'a', 'r.yaml'), res('Service', 's', 'r.yaml')], errors: [] });
  const m = store.merge({ resources: [res('Service', 's', 'r.yaml', 2)], errors: [err('r.yaml', 'HTTPRoute', 'a')] });
  assert.deepEqual(m.resources.map((r) => `${r.kind}/${r.metadata.name}@${r.v}`).sort(), ['HTTPRoute/a@1', 'Service/s@2']);
  assert.equal(m.held.length, 1);
  assert.match(m.held[0].message, /last good/);
});

test('a file that no longer parses keeps all of its previous resources', () => {
  const store = createLastGoodStore<ReturnType<typeof res>>();
  store.merge({ resources: [res('HTTPRoute', 'a', 'a.yaml'), res('HTTPRoute', 'b', 'b.yaml')], errors: [] });
  const m = store.merge({ resources: [res('HTTPRoute', 'b', 'b.yaml', 2)], errors: [err('a.yaml')] });
  assert.deepEqual(m.resources.map((r) => `${r.metadata.name}@${r.v}`).sort(), ['a@1', 'b@2']);
});

test('a deleted resource or file is removed, not held', () => {
  const store = createLastGoodStore<ReturnType<typeof res>>();
  store.merge({ resources: [res('HTTPRoute', 'a', 'a.yaml'), res('HTTPRoute', 'b', 'b.yaml')], errors: [] });
  const m = store.merge({ resources: [res('HTTPRoute', 'b', 'b.yaml')], errors: [] });
  assert.deepEqual(m.resources.map((r) => r.metadata.name), ['b']);
  assert.equal(m.held.length, 0);
});

test('warnings do not hold anything back', () => {
  const store = createLastGoodStore<ReturnType<typeof res>>();
  store.merge({ resources: [res('HTTPRoute', 'a', 'a.yaml')], errors: [] });
  const m = store.merge({ resources: [], errors: [{ ...err('a.yaml', 'HTTPRoute', 'a'), severity: 'warning' }] });
  assert.equal(m.resources.length, 0);
});
