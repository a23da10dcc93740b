/**
 * Operating a `ferry run` process: the admin API (/ready, /metrics, /config, /status), the JSON access
 * log, --bind keeping the declared port visible to upstreams, and SIGTERM draining in-flight requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEchoServer } from '../support/upstreams.ts';
import { startFerry } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { makeConfigDir, gatewayYaml, serviceYaml, splitRouteYaml } from './config.ts';
import { request } from 'undici';
import { adminJson } from './client.ts';

test('admin API, metrics and access log describe what was served', async (t) => {
  const up = await startEchoServer({ name: 'up' });
  const cfg = await makeConfigDir({
    'gateway.yaml': gatewayYaml('edge', 8443),
    'services.yaml': serviceYaml('svc', [up.port]),
    'route.yaml': splitRouteYaml('app', [['svc', 1]]).replace('parentRefs: [{name: edge}]', 'parentRefs: [{name: edge}]\n  hostnames: [app.example.com]'),
  });
  const ferry = await startFerry(['--config', cfg.dir, '--bind', 'default/edge/8443=127.0.0.1:0', '--admin', '127.0.0.1:0']);
  t.after(async () => {
    await ferry.stop();
    await Promise.all([up.close(), cfg.remove()]);
  });
  const ready = await ferry.waitForReady();
  const gateway = `http://127.0.0.1:${ready.sockets[0].port}`;
  const admin = `http://127.0.0.1:${ready.admin!.port}`;

  assert.equal((await fetch(`${admin}/ready`)).status, 200);
  // undici's request (unlike fetch) lets a test set Host.
  const res = await request(`${gateway}/hello?x=1`, { headers: { host: 'app.example.com', 'x-request-id': 'req-123' } });
  assert.equal(res.statusCode, 200);
  const echo = (await res.body.json()) as { headers: Record<string, string>; url: string };
  assert.equal(echo.url, '/hello?x=1');
  assert.equal(echo.headers['x-forwarded-port'], '8443', 'upstreams see the declared port, not the bound one');
  assert.equal(echo.headers['x-forwarded-host'], 'app.example.com');
  assert.equal(echo.headers['x-forwarded-proto'], 'http');
  assert.equal(echo.headers['x-request-id'], 'req-123');
  const other = await request(`${gateway}/hello`, { headers: { host: 'other.example.com' } });
  await other.body.dump();
  assert.equal(other.statusCode, 404);

  const metrics = await (await fetch(`${admin}/metrics`)).text();
  assert.match(metrics, /ferry_requests_total\{[^}]*route="HTTPRoute\/default\/app"[^}]*code="200"[^}]*\} 1/);
  assert.match(metrics, /ferry_request_duration_seconds_bucket\{/);

  const config = await adminJson(admin, '/config') as { sockets: unknown[]; rules: object; backends: object };
  assert.ok(Object.keys(config.backends).includes('Service/default/svc:8080'));
  const status = await adminJson(admin, '/status') as { resources: { kind: string; name: string; accepted: boolean }[] };
  assert.ok(status.resources.some((r) => r.kind === 'HTTPRoute' && r.name === 'app' && r.accepted));

  const line = await eventually(() => {
    const l = ferry.stdout().find((x) => x.includes('"requestId":"req-123"'));
    assert.ok(l, 'access log line written');
    return l;
  });
  const rec = JSON.parse(line) as Record<string, unknown>;
  assert.equal(rec.status, 200);
  assert.equal(rec.route, 'HTTPRoute/default/app');
  assert.equal(rec.backend, 'Service/default/svc:8080');
  assert.equal(rec.endpoint, `127.0.0.1:${up.port}`);
  assert.equal(rec.path, '/hello');
  assert.equal(typeof rec.durationMs, 'number');
});

test('SIGTERM finishes in-flight requests, then exits', async (t) => {
  const slow = await startEchoServer({ name: 'slow', delayMs: 700 });
  const cfg = await makeConfigDir({
    'gateway.yaml': gatewayYaml(),
    'services.yaml': serviceYaml('svc', [slow.port]),
    'route.yaml': splitRouteYaml('app', [['svc', 1]]),
  });
  const ferry = await startFerry(['--config', cfg.dir, '--bind', 'default/edge/80=127.0.0.1:0', '--admin', '127.0.0.1:0', '--access-log', 'off', '--drain-timeout', '5s']);
  t.after(async () => {
    ferry.kill();
    await Promise.all([slow.close(), cfg.remove()]);
  });
  const ready = await ferry.waitForReady();
  const gateway = `http://127.0.0.1:${ready.sockets[0].port}`;
  const inflight = fetch(`${gateway}/slow`);
  await eventually(() => slow.requests.length === 1);
  const exited = ferry.stop('SIGTERM');
  const res = await inflight;
  assert.equal(res.status, 200, 'the in-flight request completes during the drain');
  assert.equal(((await res.json()) as { name: string }).name, 'slow');
  const { code } = await exited;
  assert.equal(code, 0);
  await assert.rejects(fetch(`${gateway}/after`), 'no longer accepting');
});
