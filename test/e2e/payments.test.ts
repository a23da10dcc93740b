/**
 * The source articles' payments scenarios, through a real `ferry run` with the route edited on disk:
 * a `currency` service split out of the `payments` monolith by path (gated by a header first), an
 * A/B test of payments v2 for `group: test` users, and a canary 100/0 → 50/50 → 0/100 during which
 * the header route keeps winning over the split.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startEchoServer } from '../support/upstreams.ts';
import { startFerry } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { makeConfigDir, gatewayYaml, serviceYaml } from './config.ts';

const route = (rules: string) => `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: payments, namespace: default}
spec:
  parentRefs: [{name: edge}]
  rules:
${rules}`;

test('payments: strangler path, header-gated dark launch, A/B test and canary', async (t) => {
  const v1 = await startEchoServer({ name: 'payments-v1' });
  const v2 = await startEchoServer({ name: 'payments-v2' });
  const currency = await startEchoServer({ name: 'currency' });
  const cfg = await makeConfigDir({
    'gateway.yaml': gatewayYaml(),
    'services.yaml': [serviceYaml('payments-v1', [v1.port]), serviceYaml('payments-v2', [v2.port]), serviceYaml('currency', [currency.port])].join('---'),
    'route.yaml': route(`
    - backendRefs: [{name: payments-v1, port: 8080}]`),
  });
  const ferry = await startFerry(['--config', cfg.dir, '--bind', 'default/edge/80=127.0.0.1:0', '--admin', 'off', '--access-log', 'off']);
  t.after(async () => {
    await ferry.stop();
    await Promise.all([v1.close(), v2.close(), currency.close(), cfg.remove()]);
  });
  const gw = `http://127.0.0.1:${(await ferry.waitForReady()).sockets[0].port}`;
  const who = async (path: string, headers: Record<string, string> = {}) => {
    const res = await request(`${gw}${path}`, { headers });
    const body = (await res.body.json()) as { name: string };
    assert.equal(res.statusCode, 200);
    return body.name;
  };
  const count = async (n: number, path: string, headers: Record<string, string> = {}) => {
    const c = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const name = await who(path, headers);
      c.set(name, (c.get(name) ?? 0) + 1);
    }
    return c;
  };
  const apply = async (rules: string, check: () => Promise<void>) => {
    await cfg.write('route.yaml', route(rules));
    await eventually(check, { timeoutMs: 10_000 });
  };

  // 1. Dark launch: /currency goes to the new service only for group: dev.
  await apply(`
    - matches: [{path: {type: PathPrefix, value: /currency}, headers: [{name: group, value: dev}]}]
      backendRefs: [{name: currency, port: 8080}]
    - backendRefs: [{name: payments-v1, port: 8080}]`, async () => assert.equal(await who('/currency', { group: 'dev' }), 'currency'));
  assert.equal(await who('/currency'), 'payments-v1', 'everyone else still reaches the monolith');
  assert.equal(await who('/pay'), 'payments-v1');

  // ...then the strangler path for everyone.
  await apply(`
    - matches: [{path: {type: PathPrefix, value: /currency}}]
      backendRefs: [{name: currency, port: 8080}]
    - backendRefs: [{name: payments-v1, port: 8080}]`, async () => assert.equal(await who('/currency/rates'), 'currency'));
  assert.equal(await who('/currencyx'), 'payments-v1', 'path prefixes match whole segments');

  // 2. A/B: group: test users get v2, everyone else v1.
  const abRule = `
    - matches: [{headers: [{name: group, value: test}]}]
      backendRefs: [{name: payments-v2, port: 8080}]`;
  await apply(`${abRule}
    - backendRefs: [{name: payments-v1, port: 8080}]`, async () => assert.equal(await who('/pay', { group: 'test' }), 'payments-v2'));
  assert.deepEqual(await count(50, '/pay'), new Map([['payments-v1', 50]]));

  // 3. Canary by weight; the header route keeps winning over the split.
  const canary = (a: number, b: number) => `${abRule}
    - backendRefs: [{name: payments-v1, port: 8080, weight: ${a}}, {name: payments-v2, port: 8080, weight: ${b}}]`;
  await apply(canary(100, 0), async () => assert.deepEqual(await count(20, '/pay'), new Map([['payments-v1', 20]])));
  await apply(canary(50, 50), async () => {
    const c = await count(400, '/pay');
    const share = (c.get('payments-v2') ?? 0) / 400;
    assert.ok(Math.abs(share - 0.5) < 0.08, `50/50 gives v2 ${(share * 100).toFixed(1)}%`);
  });
  assert.deepEqual(await count(50, '/pay', { group: 'test' }), new Map([['payments-v2', 50]]), 'header route wins over the split');
  await apply(canary(0, 100), async () => assert.deepEqual(await count(50, '/pay'), new Map([['payments-v2', 50]])));
});
