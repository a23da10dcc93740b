/** Accepted client sockets reading through the shared read buffer, over real loopback TCP and TLS. */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { eventually } from '../../../test/support/eventually.ts';
import { makeCa, makeCert } from '../../../test/support/certs.ts';
import { readThroughSharedBuffer } from './client-reads.ts';

/** A server whose next accepted socket is handed to `onSocket`, and a client connected to it. */
async function pair(t: TestContext, onSocket: (s: net.Socket) => void): Promise<net.Socket> {
  const server = net.createServer({ allowHalfOpen: true }, onSocket);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await once(client, 'connect');
  t.after(() => client.destroy());
  return client;
}

function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

test('an accepted socket reads through the shared buffer: every byte arrives, and a kept chunk is never written over', async (t) => {
  const kept: { chunk: Buffer; copy: Buffer }[] = [];
  let taken = false;
  let ended = false;
  const client = await pair(t, (s) => {
    taken = readThroughSharedBuffer(s, (chunk) => {
      kept.push({ chunk, copy: Buffer.from(chunk) });
      return true;
    });
    s.on('data', () => assert.fail('no data event once reads go through the shared buffer'));
    s.on('end', () => { ended = true; s.end(); });
  });
  // Small requests one at a time (each its own read), then a body large enough to fill reads.
  const sent: Buffer[] = [];
  for (let i = 0; i < 20; i++) {
    const piece = pattern(200 + i, i);
    sent.push(piece);
    client.write(piece);
    const want = sent.reduce((n, b) => n + b.length, 0);
    await eventually(() => kept.reduce((n, k) => n + k.chunk.length, 0) === want);
  }
  const large = pattern(600 * 1024, 99);
  sent.push(large);
  client.end(large);
  await eventually(() => ended);
  assert.equal(taken, true, 'the pinned Node lets accepted sockets read through the shared buffer');
  assert.deepEqual(Buffer.concat(kept.map((k) => k.chunk)), Buffer.concat(sent));
  kept.forEach((k, i) => assert.deepEqual(k.chunk, k.copy, `chunk ${i} changed after it was delivered`));
});

test('deliver returning false stops reading until the socket is resumed', async (t) => {
  let server: net.Socket | null = null;
  let calls = 0;
  let total = 0;
  const client = await pair(t, (s) => {
    server = s;
    readThroughSharedBuffer(s, (chunk) => {
      calls++;
      total += chunk.length;
      return calls > 1;
    });
  });
  const body = pattern(4 * 1024 * 1024, 7);
  client.end(body);
  await eventually(() => calls === 1);
  const handle = (server! as unknown as { _handle: { reading: boolean } })._handle;
  assert.equal(handle.reading, false, 'reading stopped after the first read');
  assert.equal(calls, 1);
  server!.resume();
  await eventually(() => total === body.length);
});

test('TLS sockets are left to emit data as before', async (t) => {
  const cert = makeCert(makeCa(), { commonName: 'localhost', ipAddresses: ['127.0.0.1'] });
  let taken: boolean | null = null;
  const got: Buffer[] = [];
  const server = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => {
    taken = readThroughSharedBuffer(s, () => assert.fail('not delivered through the shared buffer'));
    s.on('data', (c: Buffer) => got.push(c));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const client = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', ca: cert.caPem });
  await once(client, 'secureConnect');
  t.after(() => client.destroy());
  client.write('hello');
  await eventually(() => Buffer.concat(got).toString() === 'hello');
  assert.equal(taken, false);
});
