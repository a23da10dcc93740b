import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../../lib/index.ts';
import { LeastRequest } from './least-request.ts';
import { NO_HASH } from '../balancer.ts';
import { balancerContract, distribution, testHosts, testLevel } from '../balancer.contract.ts';

balancerContract('LeastRequest', () => new LeastRequest(seededRandom(42)));

test('LeastRequest: a slow endpoint (requests piling up) gets nothing while another is idle', () => {
  const hosts = testHosts([1, 1]);
  hosts[0].active = 8;
  const b = new LeastRequest(seededRandom(1));
  const level = testLevel(hosts);
  for (let i = 0; i < 1000; i++) assert.equal(b.pick(level, NO_HASH, null), hosts[1]);
});

test('LeastRequest: among many, the busy ones get little', () => {
  const hosts = testHosts([1, 1, 1, 1, 1, 1, 1, 1]);
  for (let i = 0; i < 4; i++) hosts[i].active = 10;
  const d = distribution(new LeastRequest(seededRandom(3)), testLevel(hosts), 10_000, () => NO_HASH);
  let busy = 0;
  for (let i = 0; i < 4; i++) busy += d.get(hosts[i].key) ?? 0;
  assert.ok(busy < 0.25, `busy endpoints got ${busy}`);
});

test('LeastRequest: load is compared per unit of weight', () => {
  const hosts = testHosts([4, 1]);
  hosts[0].active = 3; // 0.75 per weight
  hosts[1].active = 1; // 1 per weight
  const b = new LeastRequest(seededRandom(5));
  const level = testLevel(hosts);
  for (let i = 0; i < 200; i++) assert.equal(b.pick(level, NO_HASH, null), hosts[0]);
});
