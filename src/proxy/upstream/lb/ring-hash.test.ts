import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingHash } from './ring-hash.ts';
import { balancerContract, consistentHashContract, testHosts, testLevel } from '../balancer.contract.ts';

balancerContract('RingHash', () => new RingHash(1024), { hashed: true });
consistentHashContract('RingHash', () => new RingHash(1024), { exact: true });

test('RingHash: ringSize nodes per unit of weight (weights reduced by their common divisor), bounded in all', () => {
  const size = (ringSize: number, weights: number[]) => {
    const b = new RingHash(ringSize);
    b.pick(testLevel(testHosts(weights)), 1, null);
    return b.size;
  };
  assert.equal(size(1024, [1, 1, 1]), 3 * 1024);
  assert.equal(size(64, [100, 100, 50]), 5 * 64);
  assert.equal(size(16, [1, 3]), 4 * 16);
  const big = size(1024, new Array(3000).fill(1));
  assert.ok(big <= 1 << 20 && big >= 3000 * 300, String(big));
});
