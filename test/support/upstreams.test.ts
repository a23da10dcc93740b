import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import WebSocket from 'ws';
import { eventually } from './eventually.ts';
import {
  startEchoServer, startH2cEchoServer, startHangingServer, startWebSocketEchoServer, startGrpcServer,
  createGrpcClient, refusedPort, type EchoReply,
} from './upstreams.ts';

test('echo server answers with what it received and records it', async (t) => {
  const up = await startEchoServer({ name: 'vm', status: 201, headers: { 'x-extra': 'yes' } });
  t.after(() => up.close());
  const res = await fetch(`${up.url}/a/b?c=1`, { method: 'POST', body: 'hello', headers: { 'X-Test': 'one' } });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('x-extra'), 'yes');
  assert.equal(res.headers.get('x-echo-name'), 'vm');
  const body = (await res.json()) as EchoReply;
  assert.equal(body.name, 'vm');
  assert.equal(body.method, 'POST');
  assert.equal(body.url, '/a/b?c=1');
  assert.equal(body.body, 'hello');
  assert.equal(body.headers['x-test'], 'one');
  assert.equal(body.httpVersion, '1.1');
  assert.equal(up.requests.length, 1);
  assert.equal(up.requests[0].body.toString(), 'hello');
  assert.ok(up.requests[0].rawHeaders.includes('X-Test'));
  assert.ok(up.requests[0].remotePort > 0);
});

test('echo server handler can answer specially', async (t) => {
  const up = await startEchoServer({
    handler: (req, res) => {
      if (req.url !== '/teapot') return false;
      (res as http.ServerResponse).writeHead(418).end('short and stout');
      return true;
    },
  });
  t.after(() => up.close());
  assert.equal((await fetch(`${up.url}/teapot`)).status, 418);
  assert.equal((await fetch(`${up.url}/other`)).status, 200);
});

test('h2c echo server records :path and :authority', async (t) => {
  const up = await startH2cEchoServer({ name: 'k8s' });
  t.after(() => up.close());
  const session = http2.connect(up.url);
  t.after(() => session.close());
  const req = session.request({ ':path': '/x?y=2', ':method': 'GET', ':authority': 'svc.example' });
  const chunks: Buffer[] = [];
  const status = await new Promise<number>((resolve) => req.on('response', (h) => resolve(Number(h[':status']))));
  for await (const c of req) chunks.push(c as Buffer);
  assert.equal(status, 200);
  const body = JSON.parse(Buffer.concat(chunks).toString()) as EchoReply;
  assert.equal(body.name, 'k8s');
  assert.equal(body.httpVersion, '2.0');
  assert.equal(up.requests[0].url, '/x?y=2');
  assert.equal(up.requests[0].headers[':authority'], 'svc.example');
});

test('hanging server never answers and counts open requests', async (t) => {
  const up = await startHangingServer();
  t.after(() => up.close());
  const req = http.request(`${up.url}/slow`);
  req.on('error', () => {});
  req.end();
  await eventually(() => up.openRequests === 1);
  assert.equal(up.requests[0].url, '/slow');
  req.destroy();
  await eventually(() => up.openRequests === 0);
  await up.close();
});

test('websocket echo server prefixes messages with its name', async (t) => {
  const up = await startWebSocketEchoServer({ name: 'k8s' });
  t.after(() => up.close());
  const ws = new WebSocket(`${up.url}/chat`);
  t.after(() => ws.terminate());
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
  ws.send('hi');
  assert.equal(await reply, 'k8s: hi');
  assert.equal(up.requests[0].url, '/chat');
});

test('grpc server: unary, streaming, trailers-only failure and health', async (t) => {
  const up = await startGrpcServer({ name: 'vm' });
  t.after(() => up.close());
  const client = createGrpcClient(up.address);
  t.after(() => client.close());
  assert.deepEqual(await client.say('hello', { metadata: { 'x-tag': 'a' } }), { message: 'hello', server: 'vm' });
  assert.deepEqual(await client.count(3), [1, 2, 3]);
  await assert.rejects(client.fail(14, 'down'), (err: { code: number; details: string }) => err.code === 14 && err.details === 'down');
  assert.equal(await client.health(), 'SERVING');
  up.setHealth('', 'NOT_SERVING');
  assert.equal(await client.health(''), 'NOT_SERVING');
  await assert.rejects(client.health('nope'), (err: { code: number }) => err.code === 5);
  assert.equal(up.requests[0].url, '/ferry.test.Echo/Say');
  assert.equal(up.requests[0].headers['x-tag'], 'a');
});

test('refusedPort gives a port where connecting is refused', async () => {
  const port = await refusedPort();
  const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
    net.connect(port, '127.0.0.1').on('error', resolve).on('connect', function (this: net.Socket) {
      this.destroy();
      resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' }));
    });
  });
  assert.equal(err.code, 'ECONNREFUSED');
});

test('grpc Fail answers trailers-only: one HEADERS frame carrying grpc-status and END_STREAM', async (t) => {
  const up = await startGrpcServer();
  t.after(() => up.close());
  const session = http2.connect(up.url);
  t.after(() => session.close());
  const req = session.request({ ':method': 'POST', ':path': '/ferry.test.Echo/Fail', 'content-type': 'application/grpc', te: 'trailers' });
  req.end(Buffer.from([0, 0, 0, 0, 2, 0x08, 14])); // FailRequest{code: 14}
  const [headers, flags] = await new Promise<[http2.IncomingHttpHeaders, number]>((resolve) =>
    req.on('response', (h, f) => resolve([h, f])),
  );
  assert.equal(headers[':status'], 200);
  assert.equal(headers['grpc-status'], '14');
  assert.equal(flags & http2.constants.NGHTTP2_FLAG_END_STREAM, http2.constants.NGHTTP2_FLAG_END_STREAM);
});
