import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from './eventually.ts';

test('eventually resolves with the value once fn stops throwing', async () => {
  let calls = 0;
  const value = await eventually(() => {
    calls++;
    if (calls < 3) throw new Error('not yet');
    return 'done';
  }, { intervalMs: 1 });
  assert.equal(value, 'done');
  assert.equal(calls, 3);
});

test('eventually waits for a boolean to become true', async () => {
  let calls = 0;
  const value = await eventually(async () => ++calls >= 4, { intervalMs: 1 });
  assert.equal(value, true);
  assert.equal(calls, 4);
});

test('eventually times out with the message and the last error', async () => {
  await assert.rejects(
    eventually(() => { throw new Error('still broken'); }, { timeoutMs: 50, intervalMs: 5, message: 'backend up' }),
    (err: Error) => err.message.includes('backend up') && err.message.includes('still broken'),
  );
  await assert.rejects(eventually(() => false, { timeoutMs: 30, intervalMs: 5 }), /condition returned false/);
});
