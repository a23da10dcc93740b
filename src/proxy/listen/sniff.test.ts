import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { H2_PREFACE, sniffPreface } from './sniff.ts';

function fakeSocket(): net.Socket & EventEmitter {
  const e = new EventEmitter() as net.Socket & EventEmitter;
  (e as unknown as { destroy: () => void }).destroy = () => e.emit('close');
  return e;
}

function sniff(pieces: Buffer[]): { isH2: boolean; first: Buffer } | null {
  const s = fakeSocket();
  let result: { isH2: boolean; first: Buffer } | null = null;
  sniffPreface(s, 60_000, (isH2, first) => { result = { isH2, first }; });
  for (const p of pieces) s.emit('data', p);
  s.emit('close');
  return result;
}

test('the HTTP/2 preface is recognised when it arrives in pieces', () => {
  const full = Buffer.concat([H2_PREFACE, Buffer.from([0, 0, 0, 4])]);
  const pieces = [full.subarray(0, 1), full.subarray(1, 5), full.subarray(5, 20), full.subarray(20)];
  const r = sniff(pieces);
  assert.equal(r?.isH2, true);
  assert.deepEqual(r?.first, full);
});

test('HTTP/1.1 is decided on the first differing byte, with every byte kept', () => {
  const r = sniff([Buffer.from('PR'), Buffer.from('INT / HTTP/1.1\r\n')]);
  assert.equal(r?.isH2, false);
  assert.equal(r?.first.toString(), 'PRINT / HTTP/1.1\r\n');
  assert.equal(sniff([Buffer.from('GET / HTTP/1.1\r\n')])?.isH2, false);
});

test('an incomplete preface followed by close decides nothing', () => {
  assert.equal(sniff([H2_PREFACE.subarray(0, 10)]), null);
});
