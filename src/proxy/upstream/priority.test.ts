import { test } from 'node:test';
import assert from 'node:assert/strict';
import { priorityLoad } from './priority.ts';

const near = (got: number[], want: number[]) => got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 0.5, `${got} vs ${want}`));

test('one healthy level takes everything; an unhealthy first level spills to the next', () => {
  near(priorityLoad([{ total: 4, healthy: 4 }, { total: 2, healthy: 2 }], 50, 70).load, [100, 0]);
  near(priorityLoad([{ total: 4, healthy: 0 }, { total: 2, healthy: 2 }], 50, 70).load, [0, 100]);
  near(priorityLoad([{ total: 2, healthy: 0 }, { total: 1, healthy: 0 }, { total: 1, healthy: 1 }], 50, 70).load, [0, 0, 100]);
});

test('at minHealthyPercent a level counts as fully healthy; below, the next takes the rest', () => {
  near(priorityLoad([{ total: 10, healthy: 7 }, { total: 2, healthy: 2 }], 50, 70).load, [100, 0]);
  // 5/10 healthy × 100/70 = 71%: level 0 keeps 71, level 1 takes 29.
  near(priorityLoad([{ total: 10, healthy: 5 }, { total: 2, healthy: 2 }], 50, 70).load, [71, 29]);
});

test('panic: one level below the threshold uses every endpoint; none healthy still serves', () => {
  const one = priorityLoad([{ total: 10, healthy: 4 }], 50, 70);
  near(one.load, [100]);
  assert.deepEqual(one.panic, [true]);
  const ok = priorityLoad([{ total: 10, healthy: 6 }], 50, 70);
  assert.deepEqual(ok.panic, [false]);
  const none = priorityLoad([{ total: 3, healthy: 0 }, { total: 1, healthy: 0 }], 50, 70);
  near(none.load, [75, 25]);
  assert.deepEqual(none.panic, [true, true]);
});

test('no panic while other levels can take the traffic; threshold 0 disables panic', () => {
  const spill = priorityLoad([{ total: 10, healthy: 3 }, { total: 2, healthy: 2 }], 50, 70);
  assert.deepEqual(spill.panic, [false, false]);
  near(spill.load, [42, 58]);
  const off = priorityLoad([{ total: 3, healthy: 0 }], 0, 70);
  near(off.load, [0]);
  assert.deepEqual(priorityLoad([{ total: 10, healthy: 2 }], 0, 70).panic, [false]);
});

test('empty levels get nothing', () => {
  near(priorityLoad([{ total: 0, healthy: 0 }, { total: 2, healthy: 2 }], 50, 70).load, [0, 100]);
  near(priorityLoad([], 50, 70).load, []);
});
