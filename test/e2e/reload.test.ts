/**
 * Reloading a running `ferry run`: continuous load across many edits fails no request; an invalid
 * edit (bad field, broken YAML) is rejected and reported with file and line while the last good
 * configuration keeps serving; fixing it applies again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'undici';
import { startEchoServer } from '../support/upstreams.ts';
import { startFerry } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { makeConfigDir, gatewayYaml, serviceYaml, splitRouteYaml } from './config.ts';
import { adminJson, routeWeights, ContinuousClient } from './client.ts';

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const a = await startEchoServer({ name: 'a' });
  const b = await startEchoServer({ name: 'b' });
  const cfg = await makeConfigDir({
    'gateway.yaml': gatewayYaml(),
    'services.yaml': serviceYaml('svc-a', [a.port]) + '---' + serviceYaml('svc-b', [b.port]),
    'route.yaml': splitRouteYaml('app', [['svc-a', 1], ['svc-b', 0]]),
  });
  const ferry = await startFerry(['--config', cfg.dir, '--bind', 'default/edge/80=127.0.0.1:0', '--admin', '127.0.0.1:0', '--access-log', 'off']);
  const ready = await ferry.waitForReady();
  const gateway = `http://127.0.0.1:${ready.sockets[0].port}`;
  const admin = `http://127.0.0.1:${ready.admin!.port}`;
  t.after(async () => {
    await ferry.stop();
    await Promise.all([a.close(), b.close(), cfg.remove()]);
  });
  return { cfg, gateway, admin, ferry };
}

test('thirty reloads under continuous load fail no request', async (t) => {
  const { cfg, gateway, admin } = await setup(t);
  const client = new ContinuousClient(new Pool(gateway, { connections: 8 }), 8);
  t.after(() => client.stop());
  client.start();
  await client.collect(100);
  for (let i = 1; i <= 30; i++) {
    const w: [number, number] = i % 2 === 0 ? [1, 0] : [1, 1];
    await cfg.write('route.yaml', splitRouteYaml('app', [['svc-a', w[0]], ['svc-b', w[1]]]).replace('rules:', `rules: # edit ${i}`));
    await eventually(async () => assert.deepEqual(await routeWeights(admin, 'HTTPRoute/default/app'), w), { timeoutMs: 10_000 });
    await client.collect(20);
  }
  await client.stop();
  assert.equal(client.failures.length, 0, `failed requests: ${client.failures.slice(0, 5).join('; ')}`);
});

interface StatusView {
  lastReload: { outcome: string };
  errors: { file: string; line: number; column: number; kind?: string; name?: string; field: string; message: string; severity: string }[];
}

test('an invalid edit is rejected with file, line and field, and the last good configuration keeps serving', async (t) => {
  const { cfg, gateway, admin } = await setup(t);
  const ask = async () => {
    const res = await fetch(`${gateway}/x`);
    assert.equal(res.status, 200);
    return ((await res.json()) as { name: string }).name;
  };
  assert.equal(await ask(), 'a');

  // A field error: weight out of range. The route keeps its previous version.
  await cfg.write('route.yaml', splitRouteYaml('app', [['svc-a', 0], ['svc-b', -5]]));
  const bad = await eventually(async () => {
    const s = await adminJson(admin, '/status') as StatusView;
    const e = s.errors.find((x) => x.severity === 'error' && x.kind === 'HTTPRoute');
    assert.ok(e, 'error reported');
    return e;
  }, { timeoutMs: 10_000 });
  assert.equal(bad.file, cfg.path('route.yaml'));
  assert.ok(bad.line > 0 && bad.column > 0, 'line and column given');
  assert.match(bad.field, /^spec\.rules\[0\]\.backendRefs\[1\]\.weight$/);
  for (let i = 0; i < 20; i++) assert.equal(await ask(), 'a', 'the last good route still serves');

  // A YAML syntax error: the whole file keeps its previous resources.
  await cfg.write('route.yaml', 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: app\n  rules: [');
  await eventually(async () => {
    const s = await adminJson(admin, '/status') as StatusView;
    assert.ok(s.errors.some((x) => x.severity === 'error' && x.file === cfg.path('route.yaml') && !x.kind && x.line > 0));
  }, { timeoutMs: 10_000 });
  for (let i = 0; i < 20; i++) assert.equal(await ask(), 'a');

  // Fixed: applies.
  await cfg.write('route.yaml', splitRouteYaml('app', [['svc-a', 0], ['svc-b', 1]]));
  await eventually(async () => assert.equal(await ask(), 'b'), { timeoutMs: 10_000 });
  const s = await adminJson(admin, '/status') as StatusView;
  assert.equal(s.errors.filter((x) => x.severity === 'error').length, 0);
});
