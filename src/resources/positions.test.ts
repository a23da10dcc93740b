/** YAML position mapping: every field path maps to its 1-based line and column, across documents. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineCounter, parseDocument } from 'yaml';
import { parseYamlFiles } from './load.ts';
import { collectPositions, parentField, positionOf } from './positions.ts';

const ROUTE = `# leading comment
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: r
spec:
  rules:
  - matches:
    - path: {type: Exact, value: /a}
    backendRefs:
    - name: a
      port: 80
    - {name: b, port: 81}
`;

test('collectPositions maps keys and sequence items to line:column', () => {
  const lc = new LineCounter();
  const doc = parseDocument(ROUTE, { lineCounter: lc });
  const p = collectPositions(doc.contents, lc);
  assert.deepEqual(p.get(''), [2, 1]);
  assert.deepEqual(p.get('metadata.name'), [5, 3]);
  assert.deepEqual(p.get('spec.rules[0]'), [8, 5]);
  assert.deepEqual(p.get('spec.rules[0].matches[0].path.value'), [9, 27]);
  assert.deepEqual(p.get('spec.rules[0].backendRefs[1]'), [13, 7]);
  assert.deepEqual(p.get('spec.rules[0].backendRefs[1].port'), [13, 17]);
  assert.deepEqual(p.get('spec.rules[0].backendRefs[0].port'), [12, 7]);
});

test('parentField strips one segment', () => {
  assert.equal(parentField('spec.rules[0].backendRefs[1].port'), 'spec.rules[0].backendRefs[1]');
  assert.equal(parentField('spec.rules[0]'), 'spec.rules');
  assert.equal(parentField('spec'), '');
  assert.equal(parentField(''), '');
});

test('positionOf falls back to the nearest present ancestor, then the document start', () => {
  const { resources } = parseYamlFiles([{ path: 'r.yaml', text: ROUTE }]);
  const r = resources[0];
  assert.deepEqual(positionOf(r, 'spec.rules[0].backendRefs[0].weight'), { file: 'r.yaml', line: 11, column: 7 });
  assert.deepEqual(positionOf(r, 'status.parents'), { file: 'r.yaml', line: 2, column: 1 });
});

test('positions are per document in multi-document files, and List items are expanded', () => {
  const text = `apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: b
- apiVersion: v1
  kind: Namespace
  metadata:
    name: c
    labels: {team: x}
`;
  const { resources, errors } = parseYamlFiles([{ path: 'ns.yaml', text }]);
  assert.deepEqual(errors, []);
  assert.deepEqual(resources.map((r) => [r.metadata.name, r.source.line, r.source.column]), [['a', 1, 1], ['b', 8, 3], ['c', 12, 3]]);
  assert.deepEqual(positionOf(resources[2], 'metadata.labels.team'), { file: 'ns.yaml', line: 16, column: 14 });
  assert.equal(resources[1].metadata.namespace, '');
});
