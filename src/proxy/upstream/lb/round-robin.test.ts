import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoundRobin } from './round-robin.ts';
import { NO_HASH } from '../balancer.ts';
import { balancerContract, testHosts, testLevel } from '../balancer.contract.ts';

balancerContract('RoundRobin', () => new RoundRobin());

test('RoundRobin: equal weights rotate in order', () => {
  const hosts = testHosts([1, 1, 1]);
  const b = new RoundRobin();
  const level = testLevel(hosts);
  const seq = Array.from({ length: 6 }, () => b.pick(level, NO_HASH, null)!.key);
  assert.deepEqual(seq, [...hosts, ...hosts].map((h) => h.key));
});

test('RoundRobin: smooth weighted order interleaves (3:1 gives one b in every four)', () => {
  const hosts = testHosts([3, 1]);
  const b = new RoundRobin();
  const level = testLevel(hosts);
  const seq = Array.from({ length: 40 }, () => (b.pick(level, NO_HASH, null) === hosts[0] ? 'a' : 'b')).join('');
  for (let i = 0; i + 4 <= seq.length; i += 4) assert.equal(seq.slice(i, i + 4).split('b').length - 1, 1, seq);
  assert.ok(!seq.includes('aaaa'));
});
