import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grpcHealthRequest, grpcServingStatus } from './health-probes.ts';

test('grpc.health.v1 framing: request carries the service name in field 1', () => {
  assert.deepEqual([...grpcHealthRequest('')], [0, 0, 0, 0, 0]);
  const f = grpcHealthRequest('ferry.test.Echo');
  assert.equal(f[0], 0);
  assert.equal(f.readUInt32BE(1), 2 + 15);
  assert.deepEqual([...f.subarray(5, 7)], [0x0a, 15]);
  assert.equal(f.subarray(7).toString(), 'ferry.test.Echo');
  const long = grpcHealthRequest('x'.repeat(200));
  assert.deepEqual([...long.subarray(5, 8)], [0x0a, 0xc8, 0x01]);
});

test('grpc.health.v1 framing: response status from field 1', () => {
  const frame = (msg: number[]) => Buffer.from([0, 0, 0, 0, msg.length, ...msg]);
  assert.equal(grpcServingStatus(frame([0x08, 0x01])), 1);
  assert.equal(grpcServingStatus(frame([0x08, 0x02])), 2);
  assert.equal(grpcServingStatus(frame([])), 0, 'absent field is UNKNOWN');
  assert.equal(grpcServingStatus(frame([0x12, 0x01, 0x41, 0x08, 0x01])), 1, 'unknown fields skipped');
  assert.equal(grpcServingStatus(Buffer.from([1, 0, 0, 0, 2, 0x08, 0x01])), -1, 'compressed is refused');
  assert.equal(grpcServingStatus(Buffer.from([0, 0, 0, 0, 5, 0x08])), -1, 'truncated');
});
