import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingHash } from './ring-hash.ts';
import { balancerContract, consistentHashContract, testHosts, testLevel } from '../balancer.contract.ts';

balancerContract('RingHash', () => new RingHash(1024), { hashed: true });
consistentHashContract('RingHash', () => new RingHash(1024), { exact: true });

test('RingHash: the ring has at least ringSize entries, under twice as many, in proportion to weights', () => {
  for (const [ringSize, weights] of [[1024, [1, 1, 1]], [64, [1, 1000]], [1024, new Array(300).fill(1)]] as const) {
    const b = new RingHash(ringSize);
    b.pick(testLevel(testHosts([...weights])), 1, null);
    const total = weights.reduce((a, w) => a + w, 0);
    assert.ok(b.size >= ringSize && b.size < 2 * Math.max(ringSize, total), `${ringSize}/${weights.length}: ${b.size}`);
  }
});
