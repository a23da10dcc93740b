/**
 * Gateway API precedence across several HTTPRoutes from two namespaces, served by a real `ferry run`:
 * Exact > longest PathPrefix (element-wise) > method > header count > query count > oldest route,
 * plus header-gated canary rules winning over a weighted split, and 404 when nothing matches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEchoServer, type Upstream } from '../support/upstreams.ts';
import { startFerry } from '../support/processes.ts';
import { makeConfigDir, gatewayYaml, serviceYaml } from './config.ts';

const route = (ns: string, name: string, created: string, match: string, svc: string) => `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: ${ns}, creationTimestamp: "${created}"}
spec:
  parentRefs: [{name: edge, namespace: default}]
  rules:
    - matches: [${match}]
      backendRefs: [{name: ${svc}, port: 8080}]
---`;

test('precedence across routes and namespaces follows the Gateway API', async (t) => {
  const names = ['exact', 'long', 'short', 'method', 'header', 'query', 'older', 'newer', 'canary', 'stable', 'teama'];
  const ups = new Map<string, Upstream>();
  for (const n of names) ups.set(n, await startEchoServer({ name: n }));
  const svc = (n: string, ns = 'default') => serviceYaml(n, [ups.get(n)!.port]).replaceAll('namespace: default', `namespace: ${ns}`);
  const cfg = await makeConfigDir({
    'gateway.yaml': gatewayYaml().replace('port: 80', 'port: 80\n      allowedRoutes: {namespaces: {from: All}}'),
    'services.yaml': names.filter((n) => n !== 'teama').map((n) => svc(n)).join('---') + '---' + svc('teama', 'team-a'),
    'routes.yaml': [
      route('default', 'r-exact', '2024-01-01T00:00:00Z', '{path: {type: Exact, value: /api/users}}', 'exact'),
      route('team-a', 'r-long', '2024-01-01T00:00:00Z', '{path: {type: PathPrefix, value: /api/users}}', 'teama'),
      route('default', 'r-short', '2024-01-01T00:00:00Z', '{path: {type: PathPrefix, value: /api}}', 'short'),
      route('default', 'r-method', '2024-01-01T00:00:00Z', '{path: {type: PathPrefix, value: /api}, method: POST}', 'method'),
      route('default', 'r-header', '2024-01-01T00:00:00Z', '{path: {type: PathPrefix, value: /api}, headers: [{name: X-Team, value: blue}]}', 'header'),
      route('default', 'r-query', '2024-01-01T00:00:00Z', '{path: {type: PathPrefix, value: /api}, queryParams: [{name: v, value: "2"}]}', 'query'),
      route('default', 'a-newer', '2025-06-01T00:00:00Z', '{path: {type: PathPrefix, value: /same}}', 'newer'),
      route('default', 'z-older', '2023-06-01T00:00:00Z', '{path: {type: PathPrefix, value: /same}}', 'older'),
      `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: payments, namespace: default}
spec:
  parentRefs: [{name: edge}]
  rules:
    - matches: [{path: {type: PathPrefix, value: /payments}, headers: [{name: group, value: test}]}]
      backendRefs: [{name: canary, port: 8080}]
    - matches: [{path: {type: PathPrefix, value: /payments}}]
      backendRefs: [{name: stable, port: 8080, weight: 100}, {name: canary, port: 8080, weight: 0}]
`,
    ].join('\n'),
  });
  const ferry = await startFerry(['--config', cfg.dir, '--bind', 'default/edge/80=127.0.0.1:0', '--admin', 'off', '--access-log', 'off']);
  t.after(async () => {
    await ferry.stop();
    await Promise.all([...ups.values()].map((u) => u.close()));
    await cfg.remove();
  });
  const ready = await ferry.waitForReady();
  const gw = `http://127.0.0.1:${ready.sockets[0].port}`;
  const who = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${gw}${path}`, init);
    if (res.status !== 200) return String(res.status);
    return ((await res.json()) as { name: string }).name;
  };

  assert.equal(await who('/api/users'), 'exact', 'Exact beats every prefix');
  assert.equal(await who('/api/users/'), 'teama', 'Exact /api/users does not match /api/users/');
  assert.equal(await who('/api/users/42'), 'teama', 'the longest prefix wins, across namespaces');
  assert.equal(await who('/api/usersx'), 'short', 'prefixes match whole path elements');
  assert.equal(await who('/api/x', { method: 'POST' }), 'method');
  assert.equal(await who('/api/x', { method: 'POST', headers: { 'x-team': 'blue' } }), 'method', 'method beats headers');
  assert.equal(await who('/api/x', { headers: { 'x-team': 'blue' } }), 'header');
  assert.equal(await who('/api/x?v=2', { headers: { 'x-team': 'blue' } }), 'header', 'headers beat query parameters');
  assert.equal(await who('/api/x?v=2'), 'query');
  assert.equal(await who('/api/x'), 'short');
  assert.equal(await who('/same/thing'), 'older', 'ties go to the oldest route');
  assert.equal(await who('/elsewhere'), '404');
  for (let i = 0; i < 20; i++) {
    assert.equal(await who('/payments/pay'), 'stable', 'weight 0 gets nothing');
    assert.equal(await who('/payments/pay', { headers: { group: 'test' } }), 'canary', 'the header rule wins over the split');
  }
});
