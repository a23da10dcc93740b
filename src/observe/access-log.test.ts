import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestChannel } from '../snapshot/index.ts';
import { createAccessLog } from './access-log.ts';
import { eventually, requestRecord, startNodeProcess } from '../../test/support/index.ts';

function collect(): { stream: PassThrough; lines: () => Record<string, unknown>[] } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, lines: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('one JSON line per request record, with every field', async (t) => {
  const { stream, lines } = collect();
  const log = createAccessLog({ destination: stream });
  t.after(log.subscribe());
  requestChannel.publish(requestRecord({ grpcStatus: '0', protocol: 'HTTP/2' }));
  requestChannel.publish(requestRecord({ route: null, rule: null, backend: null, endpoint: null, status: 404, upstreamMs: null, error: 'no_route', attempts: 0 }));
  await log.flush();
  const [ok, miss] = lines();
  assert.match(String(ok.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const { time: _time, ...rest } = ok;
  assert.deepEqual(rest, {
    requestId: 'req-1', client: '192.0.2.7', method: 'GET', host: 'shop.example.com', path: '/products', protocol: 'HTTP/2',
    status: 200, grpcStatus: '0', gateway: 'default/edge', listener: 'default/edge/http', route: 'HTTPRoute/default/catalog',
    rule: 'HTTPRoute/default/catalog/rule/0', backend: 'Service/default/catalog:8080', endpoint: '10.0.0.1:8080',
    durationMs: 12.346, upstreamMs: 10.5, bytesIn: 10, bytesOut: 200, attempts: 1, msg: 'request',
  });
  assert.equal(miss.status, 404);
  assert.equal(miss.route, null);
  assert.equal(miss.upstreamMs, null);
  assert.equal(miss.error, 'no_route');
  assert.equal('grpcStatus' in miss, false);
  assert.equal('level' in miss, false);
});

test('a file destination is appended to, and flush waits for the writes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-access-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'logs', 'access.log');
  const log = createAccessLog({ destination: file });
  const unsubscribe = log.subscribe();
  for (let i = 0; i < 100; i++) requestChannel.publish(requestRecord({ requestId: `r${i}` }));
  unsubscribe();
  requestChannel.publish(requestRecord({ requestId: 'after' }));
  await log.flush();
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { requestId: string });
  assert.equal(lines.length, 100);
  assert.equal(lines[99].requestId, 'r99');
});

test('stdout destination: flush before exit loses no line', async () => {
  const script = `
    import { createAccessLog } from './src/observe/index.ts';
    import { requestChannel } from './src/snapshot/index.ts';
    import { requestRecord } from './test/support/records.ts';
    const log = createAccessLog({ destination: 'stdout' });
    log.subscribe();
    for (let i = 0; i < 2000; i++) requestChannel.publish(requestRecord({ requestId: 'r' + i }));
    await log.flush();
    process.exit(0);
  `;
  const proc = startNodeProcess('--input-type=module', ['-e', script]);
  const exit = await proc.exited();
  assert.equal(exit.code, 0, proc.stderr().join('\n'));
  const lines = proc.stdout().map((l) => JSON.parse(l) as { requestId: string });
  assert.equal(lines.length, 2000);
  assert.equal(lines[1999].requestId, 'r1999');
});

test('lines are written in batches: within 100 ms of the first, or at once past 64 KiB', async (t) => {
  const writes: number[] = [];
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => writes.push(d.length));
  const log = createAccessLog({ destination: stream });
  t.after(log.subscribe());
  const started = Date.now();
  requestChannel.publish(requestRecord());
  requestChannel.publish(requestRecord());
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(writes.length, 0, 'two lines wait for their batch');
  await eventually(() => assert.equal(writes.length, 1), { timeoutMs: 2_000 });
  assert.ok(Date.now() - started >= 90, 'written by the batch timer');
  const line = writes[0] / 2;
  const many = Math.ceil((64 * 1024) / line);
  for (let i = 0; i < many; i++) requestChannel.publish(requestRecord());
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(writes.length, 2, 'a full batch is written without waiting for the timer');
  assert.ok(writes[1] >= 64 * 1024);
});
