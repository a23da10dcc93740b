/**
 * Protocols through a real `ferry run`, configured from YAML: gRPC over h2c (GRPCRoute), WebSocket
 * echo, HTTPS with HTTP/2 negotiated by ALPN, and a RequestMirror whose target hangs while the
 * primary keeps its latency.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import WebSocket from 'ws';
import { startEchoServer, startGrpcServer, createGrpcClient, startWebSocketEchoServer, startHangingServer } from '../support/upstreams.ts';
import { makeCa, makeCert } from '../support/certs.ts';
import { startFerry } from '../support/processes.ts';
import { eventually } from '../support/eventually.ts';
import { makeConfigDir, gatewayYaml, serviceYaml, splitRouteYaml } from './config.ts';

async function serve(t: { after: (fn: () => Promise<void>) => void }, files: Record<string, string>, bindPort = 80) {
  const cfg = await makeConfigDir(files);
  const ferry = await startFerry(['--config', cfg.dir, '--bind', `default/edge/${bindPort}=127.0.0.1:0`, '--admin', '127.0.0.1:0', '--access-log', 'off']);
  t.after(async () => {
    await ferry.stop();
    await cfg.remove();
  });
  const ready = await ferry.waitForReady();
  return { port: ready.sockets[0].port, admin: `http://127.0.0.1:${ready.admin!.port}` };
}

test('gRPC unary, streaming and error statuses pass through a GRPCRoute', async (t) => {
  const grpc = await startGrpcServer({ name: 'grpc-k8s' });
  t.after(() => grpc.close());
  const { port } = await serve(t, {
    'gateway.yaml': gatewayYaml(),
    'services.yaml': serviceYaml('echo', [grpc.port]),
    'route.yaml': `
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: echo, namespace: default}
spec:
  parentRefs: [{name: edge}]
  rules:
    - matches: [{method: {service: ferry.test.Echo}}]
      backendRefs: [{name: echo, port: 8080}]
`,
  });
  const client = createGrpcClient(`127.0.0.1:${port}`);
  t.after(async () => client.close());
  const reply = await client.say('hello');
  assert.equal(reply.message, 'hello');
  assert.equal(reply.server, 'grpc-k8s');
  assert.deepEqual(await client.count(5), [1, 2, 3, 4, 5]);
  await assert.rejects(client.fail(14, 'down for maintenance'), (err: { code: number; details: string }) => {
    assert.equal(err.code, 14);
    assert.equal(err.details, 'down for maintenance');
    return true;
  });
  // A service no rule matches is answered by the gateway (HTTP 404 → gRPC UNIMPLEMENTED).
  await assert.rejects(client.health(''), (err: { code: number }) => err.code === 12);
});

test('WebSocket sessions are tunnelled to the upstream', async (t) => {
  const ws = await startWebSocketEchoServer({ name: 'ws' });
  t.after(() => ws.close());
  const { port } = await serve(t, {
    'gateway.yaml': gatewayYaml(),
    'services.yaml': serviceYaml('chat', [ws.port]),
    'route.yaml': splitRouteYaml('chat', [['chat', 1]]),
  });
  const sock = new WebSocket(`ws://127.0.0.1:${port}/chat`);
  t.after(async () => sock.terminate());
  await new Promise((resolve, reject) => { sock.once('open', resolve); sock.once('error', reject); });
  const answers: string[] = [];
  sock.on('message', (m) => answers.push(String(m)));
  for (const m of ['one', 'two', 'three']) sock.send(m);
  await eventually(() => answers.length === 3);
  assert.deepEqual(answers, ['ws: one', 'ws: two', 'ws: three']);
});

test('HTTPS listeners terminate TLS with the Secret and speak HTTP/2 by ALPN', async (t) => {
  const up = await startEchoServer({ name: 'secure' });
  t.after(() => up.close());
  const ca = makeCa();
  const cert = makeCert(ca, { commonName: 'shop.example.com', dnsNames: ['shop.example.com'] });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const { port } = await serve(t, {
    'gateway.yaml': gatewayYaml('edge', 80, `    - name: https
      protocol: HTTPS
      port: 443
      hostname: shop.example.com
      tls:
        mode: Terminate
        certificateRefs: [{name: shop-tls}]
`).replace(/    - name: http\n      protocol: HTTP\n      port: 80\n/, ''),
    'secret.yaml': `
apiVersion: v1
kind: Secret
metadata: {name: shop-tls, namespace: default}
type: kubernetes.io/tls
data:
  tls.crt: ${b64(cert.certPem)}
  tls.key: ${b64(cert.keyPem)}
`,
    'services.yaml': serviceYaml('shop', [up.port]),
    'route.yaml': splitRouteYaml('shop', [['shop', 1]]),
  }, 443);
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca: cert.caPem, servername: 'shop.example.com' });
  t.after(async () => session.close());
  const body = await new Promise<string>((resolve, reject) => {
    const req = session.request({ ':path': '/cart', ':authority': 'shop.example.com' });
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (data += c));
    req.on('end', () => resolve(data));
    req.on('error', reject);
    req.end();
  });
  const echo = JSON.parse(body) as { name: string; headers: Record<string, string> };
  assert.equal(echo.name, 'secure');
  assert.equal(echo.headers['x-forwarded-proto'], 'https');
  assert.equal(echo.headers['x-forwarded-port'], '443');
  assert.equal(echo.headers.host, 'shop.example.com');
});

test('a hanging mirror neither slows nor fails the primary', async (t) => {
  const primary = await startEchoServer({ name: 'primary' });
  const mirror = await startHangingServer();
  t.after(async () => { await primary.close(); await mirror.close(); });
  const { port } = await serve(t, {
    'gateway.yaml': gatewayYaml(),
    'services.yaml': serviceYaml('primary', [primary.port]) + '---' + serviceYaml('shadow', [mirror.port]),
    'route.yaml': splitRouteYaml('app', [['primary', 1]]).replace('    - backendRefs:', `    - filters:
        - type: RequestMirror
          requestMirror: {backendRef: {name: shadow, port: 8080}, percent: 100}
      backendRefs:`),
  });
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/item/${i}`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { name: string }).name, 'primary');
    times.push(performance.now() - t0);
  }
  await eventually(() => mirror.requests.length > 0, { message: 'the mirror received copies' });
  times.sort((a, b) => a - b);
  assert.ok(times[Math.floor(times.length * 0.9)] < 200, `p90 with a hanging mirror: ${times[45].toFixed(1)} ms`);
});
