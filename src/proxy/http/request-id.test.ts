import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRequestId } from './request-id.ts';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('request ids are random version 4 UUIDs, unique across batches', () => {
  const seen = new Set<string>();
  // 1,000 ids span eight batches of random bytes.
  for (let i = 0; i < 1000; i++) {
    const id = newRequestId();
    assert.match(id, V4);
    seen.add(id);
  }
  assert.equal(seen.size, 1000);
});

test('request ids use every hex digit where the bits are random', () => {
  const digits = new Set<string>();
  const variants = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const id = newRequestId();
    for (const c of id.slice(0, 8)) digits.add(c);
    variants.add(id[19]!);
  }
  assert.equal(digits.size, 16);
  assert.deepEqual([...variants].sort(), ['8', '9', 'a', 'b']);
});
