/**
 * `ferry run --workers 2`: workers share the listener, every worker picks up a reload, the primary's
 * admin API sums the workers' metrics, and SIGTERM drains them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'undici';
import { startEchoServer } from '../support/upstreams.ts';
import { startFerry } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { makeConfigDir, gatewayYaml, serviceYaml, splitRouteYaml } from './config.ts';

test('two workers serve one listener, reload together and report summed metrics', async (t) => {
  const a = await startEchoServer({ name: 'a' });
  const b = await startEchoServer({ name: 'b' });
  const cfg = await makeConfigDir({
    'gateway.yaml': gatewayYaml(),
    'services.yaml': serviceYaml('svc-a', [a.port]) + '---' + serviceYaml('svc-b', [b.port]),
    'route.yaml': splitRouteYaml('app', [['svc-a', 1], ['svc-b', 0]]),
  });
  const ferry = await startFerry(['--config', cfg.dir, '--bind', 'default/edge/80=127.0.0.1:0', '--admin', '127.0.0.1:0', '--access-log', 'off', '--workers', '2']);
  t.after(async () => {
    ferry.kill();
    await Promise.all([a.close(), b.close(), cfg.remove()]);
  });
  const ready = await ferry.waitForReady();
  const gw = `http://127.0.0.1:${ready.sockets[0].port}`;
  const admin = `http://127.0.0.1:${ready.admin!.port}`;
  // A fresh connection per request, so the kernel and the primary spread them over both workers.
  const fresh = () => new Agent({ pipelining: 0 });
  const who = async () => {
    const d = fresh();
    try {
      const res = await fetch(`${gw}/x`, { dispatcher: d } as RequestInit);
      assert.equal(res.status, 200);
      return ((await res.json()) as { name: string }).name;
    } finally {
      await d.close();
    }
  };
  for (let i = 0; i < 40; i++) assert.equal(await who(), 'a');
  assert.equal((await fetch(`${admin}/ready`)).status, 200);
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  const served = [...metrics.matchAll(/^ferry_requests_total\{[^}]*code="200"[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  assert.equal(served, 40, 'the primary sums both workers');

  await cfg.write('route.yaml', splitRouteYaml('app', [['svc-a', 0], ['svc-b', 1]]));
  await eventually(async () => {
    for (let i = 0; i < 20; i++) assert.equal(await who(), 'b');
  }, { timeoutMs: 10_000, message: 'every worker reloaded' });

  const { code } = await ferry.stop('SIGTERM');
  assert.equal(code, 0);
});
