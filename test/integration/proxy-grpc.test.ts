import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { buildSnapshot, endpoints, startProxy } from './proxy-harness.ts';

const PROTO = `
syntax = "proto3";
package ferrytest;
message Msg { string text = 1; int32 n = 2; }
service Echo {
  rpc Say (Msg) returns (Msg);
  rpc Count (Msg) returns (stream Msg);
  rpc Collect (stream Msg) returns (Msg);
}
`;

type Client = grpc.Client & {
  Say(m: object, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, r?: { text: string; n: number }) => void): grpc.ClientUnaryCall;
  Count(m: object): grpc.ClientReadableStream<{ text: string; n: number }>;
  Collect(cb: (err: grpc.ServiceError | null, r?: { text: string; n: number }) => void): grpc.ClientWritableStream<object>;
};

function loadService(): grpc.ServiceClientConstructor {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-grpc-'));
  const file = join(dir, 'echo.proto');
  writeFileSync(file, PROTO);
  const def = protoLoader.loadSync(file, { keepCase: true, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { ferrytest: { Echo: grpc.ServiceClientConstructor } };
  return pkg.ferrytest.Echo;
}

async function setup(t: TestContext): Promise<Client> {
  const Echo = loadService();
  const server = new grpc.Server();
  server.addService(Echo.service, {
    Say(call: grpc.ServerUnaryCall<{ text: string }, object>, cb: grpc.sendUnaryData<object>) {
      if (call.request.text === 'missing') return cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
      const md = new grpc.Metadata();
      md.set('x-seen-authority', String(call.getPath()));
      call.sendMetadata(md);
      cb(null, { text: `hello ${call.request.text}`, n: 1 });
    },
    Count(call: grpc.ServerWritableStream<{ n: number }, object>) {
      for (let i = 1; i <= call.request.n; i++) call.write({ text: 'tick', n: i });
      const trailer = new grpc.Metadata();
      trailer.set('x-total', String(call.request.n));
      call.end(trailer);
    },
    Collect(call: grpc.ServerReadableStream<{ n: number }, object>, cb: grpc.sendUnaryData<object>) {
      let sum = 0;
      call.on('data', (m: { n: number }) => { sum += m.n; });
      call.on('end', () => cb(null, { text: 'sum', n: sum }));
    },
  });
  const upPort = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  t.after(() => server.forceShutdown());
  const snap = buildSnapshot({ routes: [{ path: { type: 'PathPrefix', value: '/ferrytest.Echo' } }], backends: { b: 'h2c' } });
  const { port } = await startProxy(t, snap, endpoints({ b: [upPort] }));
  const client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Client;
  t.after(() => client.close());
  return client;
}

test('gRPC unary through the gateway, with metadata; trailers-only errors keep their status', async (t) => {
  const client = await setup(t);
  const ok = await new Promise<{ text: string }>((resolve, reject) => client.Say({ text: 'ferry' }, new grpc.Metadata(), (err, r) => (err ? reject(err) : resolve(r!))));
  assert.equal(ok.text, 'hello ferry');
  const err = await new Promise<grpc.ServiceError>((resolve) => client.Say({ text: 'missing' }, new grpc.Metadata(), (e) => resolve(e!)));
  assert.equal(err.code, grpc.status.NOT_FOUND);
  assert.equal(err.details, 'no such thing');
});

test('gRPC server streaming and client streaming, trailers preserved', async (t) => {
  const client = await setup(t);
  const stream = client.Count({ n: 25 });
  const got: number[] = [];
  let trailers: grpc.Metadata | null = null;
  let status: grpc.StatusObject | null = null;
  stream.on('metadata', () => {});
  stream.on('status', (s: grpc.StatusObject) => { status = s; trailers = s.metadata; });
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (m: { n: number }) => got.push(m.n));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, Array.from({ length: 25 }, (_, i) => i + 1));
  assert.equal(status!.code, grpc.status.OK);
  assert.deepEqual(trailers!.get('x-total'), ['25']);

  const sum = await new Promise<{ n: number }>((resolve, reject) => {
    const w = client.Collect((err, r) => (err ? reject(err) : resolve(r!)));
    for (let i = 1; i <= 10; i++) w.write({ n: i });
    w.end();
  });
  assert.equal(sum.n, 55);
});
