/** Loading: multi-document parsing, per-resource rejection, duplicates, unknown kinds, directory walks. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatConfigError } from '../lib/index.ts';
import { loadConfigPaths, parseYamlFiles } from './load.ts';
import { resourceFromObject } from './validate.ts';

const svc = (name: string, extra = '') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}${extra}
spec:
  ports: [{port: 80}]
`;

const lines = (text: string) => parseYamlFiles([{ path: 'f.yaml', text }]).errors.map(formatConfigError);

test('a bad document is reported and the others still load', () => {
  const text = `${svc('a')}---\n${svc('b')}  type: Weird\n---\n${svc('c')}`;
  const { resources, errors } = parseYamlFiles([{ path: 'f.yaml', text }]);
  assert.deepEqual(resources.map((r) => r.metadata.name), ['a', 'c']);
  assert.deepEqual(errors.map(formatConfigError), [
    'f.yaml:14:3: Service default/b spec.type: must be one of "ClusterIP", "NodePort", "LoadBalancer", "ExternalName" (got "Weird")',
  ]);
});

test('documents without apiVersion, kind or metadata.name are errors; unknown kinds are warnings', () => {
  assert.deepEqual(lines('kind: Service\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Service\nmetadata: {}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n'), [
    'f.yaml:1:1: Service default/x apiVersion: apiVersion is required in every resource',
    'f.yaml:6:1: Service metadata.name: metadata.name is required in every resource',
    'f.yaml:9:1: Widget default/w warning: kind: unknown kind Widget (example.com/v1) ignored',
  ]);
});

test('a kind under an apiVersion that does not serve it is an error', () => {
  assert.deepEqual(lines('apiVersion: gateway.networking.k8s.io/v1beta1\nkind: GRPCRoute\nmetadata: {name: g}\n'), [
    'f.yaml:1:1: GRPCRoute default/g apiVersion: GRPCRoute is not served as gateway.networking.k8s.io/v1beta1; use gateway.networking.k8s.io/v1',
  ]);
});

test('YAML syntax errors carry their line and column', () => {
  assert.deepEqual(lines('apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n'), [
    'f.yaml:5:3: YAML: Map keys must be unique',
  ]);
});

test('duplicates across files: the later one is rejected', () => {
  const { resources, errors } = parseYamlFiles([
    { path: 'a.yaml', text: svc('x') },
    { path: 'b.yaml', text: `---\n${svc('x')}` },
  ]);
  assert.equal(resources.length, 1);
  assert.equal(resources[0].source.file, 'a.yaml');
  assert.deepEqual(errors.map(formatConfigError), [
    'b.yaml:5:3: Service default/x metadata.name: duplicate Service default/x: already defined at a.yaml:1:1; this one is ignored',
  ]);
});

test('cluster fields (status, uid, managedFields) are accepted and dropped', () => {
  const text = `${svc('a', '\n  uid: 123\n  managedFields: [{manager: kubectl}]')}status: {loadBalancer: {}}\n`;
  const { resources, errors } = parseYamlFiles([{ path: 'f.yaml', text }]);
  assert.deepEqual(errors, []);
  assert.equal('status' in resources[0], false);
});

test('Secrets: base64 data is checked and TLS Secrets need both keys', () => {
  const text = `apiVersion: v1
kind: Secret
metadata: {name: s}
type: kubernetes.io/tls
data:
  tls.crt: "not base64!"
`;
  assert.deepEqual(lines(text), [
    'f.yaml:5:1: Secret default/s data: a kubernetes.io/tls Secret needs "tls.key" in data or stringData',
    'f.yaml:6:3: Secret default/s data.tls.crt: must be base64-encoded (use stringData for plain text)',
  ]);
});

test('resourceFromObject works without positions (objects from an API server)', () => {
  const obj = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'prod', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { ports: [{ port: 0 }] } };
  const r = resourceFromObject(obj, { source: { file: 'kubernetes', line: 0, column: 0 } });
  assert.equal(r.resource, undefined);
  assert.deepEqual(r.errors.map(formatConfigError), ['kubernetes: Service prod/s spec.ports[0].port: must be at least 1 (got 0)']);
  obj.spec.ports[0].port = 8080;
  const ok = resourceFromObject(obj, { source: { file: 'kubernetes', line: 0, column: 0 } });
  assert.equal(ok.resource?.metadata.creationTimestamp, '2024-01-01T00:00:00Z');
});

test('loadConfigPaths walks directories recursively, sorted, skipping dotfiles and other extensions', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-load-'));
  try {
    await mkdir(join(dir, 'sub'));
    await mkdir(join(dir, '.hidden'));
    await writeFile(join(dir, 'b.yaml'), svc('b'));
    await writeFile(join(dir, 'a.yml'), svc('a'));
    await writeFile(join(dir, 'sub', 'c.yaml'), svc('c'));
    await writeFile(join(dir, '.d.yaml'), svc('d'));
    await writeFile(join(dir, '.hidden', 'e.yaml'), svc('e'));
    await writeFile(join(dir, 'notes.txt'), 'not yaml');
    const r = await loadConfigPaths([dir, join(dir, 'missing.yaml')]);
    assert.deepEqual(r.files, [join(dir, 'a.yml'), join(dir, 'b.yaml'), join(dir, 'sub', 'c.yaml')]);
    assert.deepEqual(r.resources.map((x) => x.metadata.name), ['a', 'b', 'c']);
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0].message, /^cannot read: ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('header values and rewritten paths that would break the wire format are refused', () => {
  const route = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: x-a, value: "ok\\r\\nx-injected: 1"}]
    - type: URLRewrite
      urlRewrite:
        path: {type: ReplaceFullPath, replaceFullPath: "/a b"}
`;
  assert.deepEqual(lines(route), [
    'f.yaml:9:27: HTTPRoute default/r spec.rules[0].filters[0].requestHeaderModifier.set[0].value: must not contain control characters such as CR, LF or NUL',
    'f.yaml:12:39: HTTPRoute default/r spec.rules[0].filters[1].urlRewrite.path.replaceFullPath: must be visible ASCII without spaces (percent-encode anything else)',
  ]);
});
