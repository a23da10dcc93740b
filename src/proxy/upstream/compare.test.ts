import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mirrorChannel, type CapturedResponse, type MirrorSample } from '../../snapshot/index.ts';
import type { Clock } from '../../lib/index.ts';
import { Comparison, ResponseCapture, flatHeaders } from './compare.ts';

function clockAt(times: number[]): Clock {
  return { now: () => 0, monotonic: () => times.shift() ?? 0, setTimer: () => ({ cancel() {} }) };
}

function collect(t: import('node:test').TestContext): MirrorSample[] {
  const out: MirrorSample[] = [];
  const fn = (s: unknown) => { out.push(s as MirrorSample); };
  mirrorChannel.subscribe(fn);
  t.after(() => mirrorChannel.unsubscribe(fn));
  return out;
}

const meta = { key: 'k', ruleId: 'r', routeId: 'rt', method: 'GET', path: '/', backend: 'm' };

test('a capture keeps copies of the body up to its limit, notes truncation, and its duration', () => {
  const c = new ResponseCapture(5, clockAt([100, 130]));
  c.start(200, { 'Content-Type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], skip: undefined });
  const chunk = Buffer.from('abc');
  c.data(chunk);
  chunk.fill('z');
  c.data(Buffer.from('defgh'));
  c.data(Buffer.from('ij'));
  let got: CapturedResponse | null = null;
  c.then((r) => { got = r; });
  assert.equal(got, null);
  c.end();
  assert.ok(got !== null);
  const r = got as CapturedResponse;
  assert.equal(r.body.toString(), 'abcde', 'copied, not referenced');
  assert.equal(r.truncated, true);
  assert.equal(r.durationMs, 30);
  assert.deepEqual(r.headers, { 'content-type': 'text/plain', 'set-cookie': 'a=1, b=2' });
  assert.equal(r.error, undefined);
  assert.deepEqual(flatHeaders({}), {});
});

test('a later start replaces an earlier attempt; a failure keeps what arrived', () => {
  const c = new ResponseCapture(100, clockAt([0, 5]));
  c.start(503, { a: '1' });
  c.data(Buffer.from('first'));
  c.start(200, { b: '2' });
  c.data(Buffer.from('second'));
  c.end('upstream_reset');
  c.then((r) => {
    assert.equal(r.status, 200);
    assert.deepEqual(r.headers, { b: '2' });
    assert.equal(r.body.toString(), 'second');
    assert.equal(r.error, 'upstream_reset');
  });
});

test('a comparison publishes once every answer is in; abandoned ones never; a dropped noise call leaves secondary out', (t) => {
  const samples = collect(t);
  const answer = (status: number): CapturedResponse => ({ status, headers: {}, body: Buffer.from('0123456789'), truncated: false, durationMs: 1 });

  const full = new Comparison(meta, 4);
  full.expectSecondary();
  full.candidate(answer(200));
  full.secondary(answer(201));
  assert.equal(samples.length, 0);
  full.primary(answer(202));
  assert.equal(samples.length, 1);
  assert.equal(samples[0].primary.body.toString(), '0123', 'a shared primary capture is cut to this mirror\'s limit');
  assert.equal(samples[0].primary.truncated, true);
  assert.equal(samples[0].secondary?.status, 201);

  const dropped = new Comparison(meta, 100);
  dropped.expectSecondary();
  dropped.primary(answer(200));
  dropped.noSecondary();
  dropped.candidate(answer(200));
  assert.equal(samples.length, 2);
  assert.equal('secondary' in samples[1], false);

  const abandoned = new Comparison(meta, 100);
  abandoned.primary(answer(200));
  abandoned.abandon();
  abandoned.candidate(answer(200));
  assert.equal(samples.length, 2);
});
