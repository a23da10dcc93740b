import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import WebSocket, { WebSocketServer } from 'ws';
import type { RequestRecord } from '../../src/snapshot/index.ts';
import { buildSnapshot, endpoints, eventually, startProxy } from './proxy-harness.ts';

async function rawUpstream(t: TestContext, answer: string): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('data', () => s.write(answer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => { for (const s of sockets) s.destroy(); server.close(); });
  return (server.address() as net.AddressInfo).port;
}

function unexpected(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => reject(new Error('tunnel opened')));
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume(); ws.terminate(); });
    ws.on('error', (err) => resolve(-1 * (err ? 1 : 1)));
  });
}

test('WebSocket echo through the gateway, with route filters on the handshake and one record per session', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  t.after(() => { for (const c of wss.clients) c.terminate(); wss.close(); });
  let handshakeHeader: string | undefined;
  wss.on('connection', (ws, req) => {
    handshakeHeader = req.headers['x-from-filter'] as string | undefined;
    ws.on('message', (m, binary) => ws.send(binary ? m : `echo:${m}`));
  });
  const records: RequestRecord[] = [];
  const onRecord = (r: unknown) => records.push(r as RequestRecord);
  subscribe('ferry:request', onRecord);
  t.after(() => unsubscribe('ferry:request', onRecord));
  const snap = buildSnapshot({ routes: [{ path: { type: 'PathPrefix', value: '/ws' }, filters: [{ type: 'RequestHeaderModifier', set: [{ name: 'x-from-filter', value: 'yes' }], add: [], remove: [] }] }] });
  const { port } = await startProxy(t, snap, endpoints({ b: [(wss.address() as net.AddressInfo).port] }));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/chat`);
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
  const replies: string[] = [];
  ws.on('message', (m) => replies.push(String(m)));
  for (let i = 0; i < 5; i++) ws.send(`m${i}`);
  await eventually(() => replies.length === 5);
  assert.deepEqual(replies, ['echo:m0', 'echo:m1', 'echo:m2', 'echo:m3', 'echo:m4']);
  assert.equal(handshakeHeader, 'yes');
  ws.close();
  const rec = await eventually(() => records.find((r) => r.protocol === 'WebSocket') ?? false) as RequestRecord;
  assert.equal(rec.status, 101);
  assert.equal(rec.path, '/ws/chat');
  assert.equal(rec.error, undefined);
});

test('a bad upstream handshake is not tunnelled', async (t) => {
  const wrongAccept = await rawUpstream(t, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: d3Jvbmc=\r\n\r\n');
  const refused = await rawUpstream(t, 'HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno');
  const snap = buildSnapshot({
    backends: { w: 'http1', f: 'http1' },
    routes: [{ path: { type: 'PathPrefix', value: '/wrong' }, backends: [{ id: 'w' }] }, { path: { type: 'PathPrefix', value: '/forbidden' }, backends: [{ id: 'f' }] }],
  });
  const { port } = await startProxy(t, snap, endpoints({ w: [wrongAccept], f: [refused] }));
  assert.equal(await unexpected(`ws://127.0.0.1:${port}/wrong`), 502);
  assert.equal(await unexpected(`ws://127.0.0.1:${port}/forbidden`), 403);
  assert.equal(await unexpected(`ws://127.0.0.1:${port}/nothing`), 404);
});
