/**
 * The seeds' VM → Kubernetes move of productcatalog, end to end through a real `ferry run` process:
 * weights edited on disk 100/0 → 80/20 → 0/100 while a client keeps calling, with no failed request,
 * 0/100 exact and 80/20 within statistical tolerance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pool } from 'undici';
import { startEchoServer } from '../support/upstreams.ts';
import { startFerry } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { makeConfigDir, gatewayYaml, serviceYaml, splitRouteYaml } from './config.ts';
import { adminJson, routeWeights, ContinuousClient } from './client.ts';

test('productcatalog moves from the VM copy to the Kubernetes copy with no failed request', async (t) => {
  const vm = await startEchoServer({ name: 'vm' });
  const k8s = await startEchoServer({ name: 'k8s' });
  const cfg = await makeConfigDir({
    'gateway.yaml': gatewayYaml(),
    'services.yaml': serviceYaml('productcatalog-vm', [vm.port], { 'ferry.dev/platform': 'vm' }) +
      '---' + serviceYaml('productcatalog-k8s', [k8s.port], { 'ferry.dev/platform': 'kubernetes' }),
    'route.yaml': splitRouteYaml('productcatalog', [['productcatalog-vm', 100], ['productcatalog-k8s', 0]]),
  });
  const ferry = await startFerry(['--config', cfg.dir, '--bind', 'default/edge/80=127.0.0.1:0', '--admin', '127.0.0.1:0', '--access-log', 'off']);
  const ready = await ferry.waitForReady();
  const gateway = `http://127.0.0.1:${ready.sockets[0].port}`;
  const admin = `http://127.0.0.1:${ready.admin!.port}`;
  const client = new ContinuousClient(new Pool(gateway, { connections: 4 }), 4);
  t.after(async () => {
    await client.stop();
    await ferry.stop();
    await Promise.all([vm.close(), k8s.close(), cfg.remove()]);
  });

  client.start();
  const phase1 = await client.collect(300);
  assert.equal(phase1.by('vm'), 300, '100/0 sends everything to the VM copy');

  await cfg.write('route.yaml', splitRouteYaml('productcatalog', [['productcatalog-vm', 80], ['productcatalog-k8s', 20]]));
  await eventually(async () => assert.deepEqual(await routeWeights(admin, 'HTTPRoute/default/productcatalog'), [80, 20]), { timeoutMs: 10_000 });
  const phase2 = await client.collect(2000);
  const share = phase2.by('k8s') / phase2.total;
  assert.ok(Math.abs(share - 0.2) < 0.04, `80/20 gives the Kubernetes copy ${(share * 100).toFixed(1)}% (expected 20% ± 4)`);

  await cfg.write('route.yaml', splitRouteYaml('productcatalog', [['productcatalog-vm', 0], ['productcatalog-k8s', 100]]));
  await eventually(async () => assert.deepEqual(await routeWeights(admin, 'HTTPRoute/default/productcatalog'), [0, 100]), { timeoutMs: 10_000 });
  const phase3 = await client.collect(300);
  assert.equal(phase3.by('k8s'), 300, '0/100 sends everything to the Kubernetes copy');

  await client.stop();
  assert.equal(client.failures.length, 0, `failed requests during the move: ${client.failures.slice(0, 5).join('; ')}`);
  const status = await adminJson(admin, '/status') as { lastReload: { outcome: string } };
  assert.equal(status.lastReload.outcome, 'applied');
});
