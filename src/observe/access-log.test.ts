import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestChannel, type RequestRecord } from '../snapshot/index.ts';
import { accessLogEntry, accessLogLine, createAccessLog } from './access-log.ts';
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

test('a line is byte for byte what JSON.stringify writes, for escapes, non-ASCII and odd numbers', () => {
  const strings = ['', 'plain', 'quote"in', 'back\\slash', 'tab\tnew\nline', '\u0000\u001f\u007f', 'caf\u00e9 \u00ff', '\u2028\u2029',
    '\ud83d\ude00 emoji', 'lone \ud800 surrogate', '</script>', 'x'.repeat(300)];
  const numbers = [0, 0.0004, 0.0005, 0.001, 0.1, 1.5, 12.3456, 999.9995, 1000, 123456.789, 1e12 + 0.25, -1, NaN, Infinity];
  const cases: Partial<RequestRecord>[] = [];
  for (const s of strings) {
    cases.push({ path: s }, { host: s, requestId: s }, { route: s, rule: s, backend: s, endpoint: s }, { method: s, protocol: s, clientAddress: s },
      { gateway: s, listener: s }, { error: s, grpcStatus: s });
  }
  for (const v of numbers) cases.push({ durationMs: v, upstreamMs: v }, { status: v, bytesIn: v, bytesOut: v, attempts: v });
  cases.push({ upstreamMs: null, route: null, rule: null, backend: null, endpoint: null });
  for (const overrides of cases) {
    const r = requestRecord(overrides);
    const line = accessLogLine(r);
    const time = /^\{"time":"([^"]+)"/.exec(line)![1];
    assert.equal(line, JSON.stringify({ time, ...accessLogEntry(r), msg: 'request' }) + '\n', JSON.stringify(overrides));
  }
});

test('a line longer than a batch is written whole and in order', async (t) => {
  const { stream, lines } = collect();
  const log = createAccessLog({ destination: stream });
  t.after(log.subscribe());
  requestChannel.publish(requestRecord({ requestId: 'before' }));
  requestChannel.publish(requestRecord({ requestId: 'long', path: '/\u00e9'.repeat(40_000) }));
  requestChannel.publish(requestRecord({ requestId: 'after' }));
  await log.flush();
  const got = lines();
  assert.deepEqual(got.map((l) => l.requestId), ['before', 'long', 'after']);
  assert.equal(got[1].path, '/\u00e9'.repeat(40_000));
});
