/** gRPC upstream for the bench: one unary method that answers a fixed 100-byte message, raw bytes, no proto. */
import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const reply = Buffer.alloc(100, 0x61);
const identity = (b: Buffer) => b;
const server = new grpc.Server();
server.addService(
  {
    unary: {
      path: '/bench.Echo/Unary',
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  },
  { unary: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, reply) },
);
server.bindAsync(`127.0.0.1:${values.port}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  process.stdout.write(`listening on ${values.port}\n`);
});
