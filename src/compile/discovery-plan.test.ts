/**
 * The discovery plan: source keys are stable identities (what is watched, not who asked), so sources
 * are shared between Backends and survive reloads that do not change them; the plan does not depend
 * on resource order; a Mesh's relative kubeconfig is resolved against its file's directory.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseYamlFiles } from '../resources/index.ts';
import type { DiscoveryPlan } from '../snapshot/index.ts';
import { compile } from './compile.ts';
import { sourceKey } from './discovery-sources.ts';

const MESH = `apiVersion: ferry.dev/v1alpha1
kind: Mesh
metadata: {name: default}
spec: {clusters: [{name: east, kubeconfig: kube/east.yaml}]}
`;

function backend(name: string, sources: string, extra = ''): string {
  return `---
apiVersion: ferry.dev/v1alpha1
kind: Backend
metadata: {name: ${name}, namespace: shop${extra}}
spec:
  sources:
${sources}
`;
}

const CONSUL = '  - consul: {address: http://127.0.0.1:8500, service: catalog, datacenter: dc1, tag: v1}';
const DNS = '  - dns: {name: catalog.internal, port: 3550, servers: ["127.0.0.1:5353"]}';
const KUBE = '  - kubernetes: {cluster: east, service: catalog, port: grpc}';

function plan(text: string, path = 'config/ferry.yaml'): { discovery: DiscoveryPlan; errors: string[] } {
  const parsed = parseYamlFiles([{ path, text }]);
  assert.deepEqual(parsed.errors.filter((e) => e.severity === 'error'), []);
  const result = compile({ resources: parsed.resources });
  return { discovery: result.discovery, errors: result.report.errors.map((e) => `${e.name}: ${e.message}`) };
}

test('source keys name what is watched, in a fixed format', () => {
  assert.equal(sourceKey.consul('http://127.0.0.1:8500', 'dc1', 'productcatalog', 'v1'), 'consul|http://127.0.0.1:8500|dc1|productcatalog|v1');
  assert.equal(sourceKey.dns('A', 'catalog.internal', 3550, ['127.0.0.1:5353']), 'dns|A|catalog.internal|3550|127.0.0.1:5353');
  assert.equal(sourceKey.kubernetes('east', 'shop', 'productcatalog', 'grpc'), 'kubernetes|east|shop|productcatalog|grpc');
  assert.equal(sourceKey.static('Backend/shop/productcatalog', 0), 'static|Backend/shop/productcatalog|0');
  assert.equal(sourceKey.service('shop', 'productcatalog-local', 3550), 'service|shop/productcatalog-local:3550');
});

test('equivalent spellings give the same key; different targets do not', () => {
  assert.equal(sourceKey.consul('http://CONSUL.local:8500/', undefined, 'a', undefined), sourceKey.consul('http://consul.local:8500', undefined, 'a', undefined));
  assert.equal(sourceKey.consul('http://consul.local:80', undefined, 'a', undefined), sourceKey.consul('http://consul.local', undefined, 'a', undefined));
  assert.equal(sourceKey.dns('A', 'Catalog.Internal.', 80, []), sourceKey.dns('A', 'catalog.internal', 80, []));
  assert.notEqual(sourceKey.consul('http://c:8500', 'dc1', 'a', undefined), sourceKey.consul('http://c:8500', 'dc2', 'a', undefined));
  assert.notEqual(sourceKey.consul('https://c:8500', undefined, 'a', undefined), sourceKey.consul('http://c:8500', undefined, 'a', undefined));
  assert.notEqual(sourceKey.dns('A', 'x', 80, []), sourceKey.dns('AAAA', 'x', 80, []));
});

test('two Backends naming the same sources share them: each source is in the plan once', () => {
  const { discovery, errors } = plan(MESH + backend('a', [CONSUL, DNS, KUBE].join('\n')) + backend('b', [KUBE, CONSUL, DNS].join('\n')));
  assert.deepEqual(errors, []);
  assert.deepEqual(
    discovery.sources.map((s) => s.key),
    ['consul|http://127.0.0.1:8500|dc1|catalog|v1', 'dns|A|catalog.internal|3550|127.0.0.1:5353', 'kubernetes|east|shop|catalog|grpc'],
  );
  assert.deepEqual(discovery.backends['Backend/shop/a'].sources, [
    'consul|http://127.0.0.1:8500|dc1|catalog|v1',
    'dns|A|catalog.internal|3550|127.0.0.1:5353',
    'kubernetes|east|shop|catalog|grpc',
  ]);
  assert.deepEqual(new Set(discovery.backends['Backend/shop/b'].sources), new Set(discovery.backends['Backend/shop/a'].sources));
});

test('a reload that does not touch a source keeps its key and its definition', () => {
  const before = plan(MESH + backend('a', [CONSUL, DNS].join('\n')) + backend('b', DNS));
  // b changes its DNS port; a new Backend appears; a's sources are untouched.
  const after = plan(MESH + backend('a', [CONSUL, DNS].join('\n')) + backend('b', DNS.replace('3550', '3551')) + backend('c', KUBE));
  const byKey = (p: DiscoveryPlan) => new Map(p.sources.map((s) => [s.key, s]));
  const [b, a] = [byKey(before.discovery), byKey(after.discovery)];
  for (const key of before.discovery.backends['Backend/shop/a'].sources) assert.deepEqual(a.get(key), b.get(key), key);
  assert.deepEqual([...a.keys()].filter((k) => !b.has(k)), ['dns|A|catalog.internal|3551|127.0.0.1:5353', 'kubernetes|east|shop|catalog|grpc']);
});

test('sources no valid Backend uses are not in the plan', () => {
  const text = MESH + backend('a', CONSUL) + `---
apiVersion: ferry.dev/v1alpha1
kind: Backend
metadata: {name: orphan, namespace: shop}
spec: {subsetOf: {name: nobody}}
`;
  const { discovery } = plan(text);
  assert.deepEqual(Object.keys(discovery.backends), ['Backend/shop/a']);
  assert.equal(discovery.sources.length, 1);
});

test('static keys follow the Backend and the source position; subsets share the parent keys', () => {
  const text = backend('a', '  - static: {endpoints: [{address: 10.0.0.2, port: 80}, {address: 10.0.0.1, port: 80}]}\n  - static: {endpoints: [{address: 10.0.0.3, port: 81}]}') + `---
apiVersion: ferry.dev/v1alpha1
kind: Backend
metadata: {name: a-v2, namespace: shop}
spec: {subsetOf: {name: a, matchLabels: {version: v2}}}
`;
  const { discovery } = plan(text);
  assert.deepEqual(discovery.backends['Backend/shop/a'], { sources: ['static|Backend/shop/a|0', 'static|Backend/shop/a|1'], matchLabels: {} });
  assert.deepEqual(discovery.backends['Backend/shop/a-v2'], { sources: ['static|Backend/shop/a|0', 'static|Backend/shop/a|1'], matchLabels: { version: 'v2' } });
  const first = discovery.sources[0];
  assert.equal(first.type, 'static');
  assert.deepEqual(first.type === 'static' ? first.endpoints.map((e) => e.address) : [], ['10.0.0.1', '10.0.0.2']);
});

test('the plan does not depend on resource order; the older declaration of a shared source wins', () => {
  const older = backend('zeta', '  - consul: {address: http://127.0.0.1:8500, service: catalog, labels: {ferry.dev/platform: vm}}', ', creationTimestamp: "2024-01-01T00:00:00Z"');
  const newer = backend('alpha', '  - consul: {address: http://127.0.0.1:8500, service: catalog, labels: {ferry.dev/platform: kubernetes}}', ', creationTimestamp: "2025-01-01T00:00:00Z"');
  const one = plan(older + newer);
  const two = plan(newer + older);
  assert.deepEqual(one.discovery, two.discovery);
  assert.deepEqual(one.discovery.sources.map((s) => (s.type === 'consul' ? s.labels : undefined)), [{ 'ferry.dev/platform': 'vm' }]);
  assert.equal(one.errors.length, 1);
  assert.match(one.errors[0], /^alpha: source consul\|http:\/\/127\.0\.0\.1:8500\|\|catalog\| is also declared by Backend\/shop\/zeta/);
});

test('a relative kubeconfig is resolved against the Mesh file; absolute paths stay as written', () => {
  assert.equal(plan(MESH, 'config/mesh/ferry.yaml').discovery.clusters[0].kubeconfig, 'config/mesh/kube/east.yaml');
  assert.equal(plan(MESH.replace('kube/east.yaml', '/etc/kube/east.yaml')).discovery.clusters[0].kubeconfig, '/etc/kube/east.yaml');
});

test('without Backends or a Mesh the plan is empty', () => {
  assert.deepEqual(compile({ resources: [] }).discovery, { clusters: [], sources: [], backends: {} });
});
