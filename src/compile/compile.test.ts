/** compile() as a whole: determinism, the hash contract, binds, and errors carried into the report. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseYamlFiles } from '../resources/index.ts';
import { compile } from './compile.ts';
import { sha256Hex, stableStringify } from './stable-json.ts';

const CONFIG = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: ferry
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: app}
spec: {ports: [{port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: app, port: 80, weight: WEIGHT}]
`;

const load = (weight = 1) => parseYamlFiles([{ path: 'c.yaml', text: CONFIG.replace('WEIGHT', String(weight)) }]);

test('same input gives byte-identical output; the hash covers sockets, rules and backends', () => {
  const a = compile({ resources: load().resources });
  const b = compile({ resources: load().resources });
  assert.equal(JSON.stringify(a), JSON.stringify(b));
  const { sockets, rules, backends } = a.snapshot;
  assert.equal(a.snapshot.hash, sha256Hex(stableStringify({ sockets, rules, backends })));
  assert.notEqual(compile({ resources: load(2).resources }).snapshot.hash, a.snapshot.hash);
});

test('binds move a listener to another address and keep its declared port', () => {
  const binds = new Map([['default/gw/80', { host: '127.0.0.1', port: 18080 }]]);
  const { snapshot } = compile({ resources: load().resources, binds });
  assert.equal(snapshot.sockets.length, 1);
  const [socket] = snapshot.sockets;
  assert.deepEqual([socket.key, socket.bindHost, socket.bindPort, socket.listeners[0].port], ['127.0.0.1:18080', '127.0.0.1', 18080, 80]);
});

test('loading errors are carried into the report, and a rejected resource gets a status', () => {
  const parsed = parseYamlFiles([{ path: 'bad.yaml', text: 'apiVersion: v1\nkind: Service\nmetadata: {name: broken}\nspec: {ports: [{port: 0}]}\n' }]);
  const { report, snapshot } = compile({ resources: parsed.resources, errors: parsed.errors });
  assert.deepEqual(snapshot.sockets, []);
  assert.equal(report.errors.length, 1);
  const status = report.resources.find((r) => r.name === 'broken');
  assert.equal(status?.accepted, false);
  assert.equal(status?.errors[0].field, 'spec.ports[0].port');
});

test('an empty configuration compiles to an empty snapshot', () => {
  const { snapshot, report } = compile({ resources: [] });
  assert.deepEqual({ sockets: snapshot.sockets, rules: snapshot.rules, backends: snapshot.backends }, { sockets: [], rules: {}, backends: {} });
  assert.deepEqual(report, { resources: [], errors: [] });
});
