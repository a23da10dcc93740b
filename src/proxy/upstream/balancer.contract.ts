/**
 * The contract every Balancer meets, run by each implementation's test file: nothing from an empty
 * level, only usable endpoints outside panic, every endpoint in panic, traffic in proportion to the
 * weights, and a failed attempt's endpoint avoided when there is another. Hash balancers run it with
 * random request hashes and with no hash at all (their round-robin fallback).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../lib/index.ts';
import { NO_HASH, type Balancer, type LbHost, type LevelView } from './balancer.ts';

export interface TestHost extends LbHost {
  weight: number;
  active: number;
  healthy: boolean;
}

let version = 1_000_000;

export function testHosts(weights: number[]): TestHost[] {
  return weights.map((weight, i) => ({ key: `10.0.0.${i + 1}:80`, weight, active: 0, healthy: true }));
}

export function testLevel<H extends LbHost>(hosts: H[], opts: { panic?: boolean; version?: number } = {}): LevelView<H> {
  const panic = opts.panic ?? false;
  return { hosts, usable: panic ? hosts : hosts.filter((h) => h.healthy), panic, version: opts.version ?? ++version };
}

/** Share of picks per host key over `n` picks. */
export function distribution(b: Balancer, level: LevelView<TestHost>, n: number, hashOf: (i: number) => number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = b.pick(level, hashOf(i), null);
    assert.ok(h !== undefined);
    counts.set(h.key, (counts.get(h.key) ?? 0) + 1);
  }
  for (const [k, v] of counts) counts.set(k, v / n);
  return counts;
}

export function balancerContract(name: string, make: () => Balancer, opts: { hashed?: boolean } = {}): void {
  const modes: [string, (i: number) => number][] = [['no hash', () => NO_HASH]];
  if (opts.hashed) {
    const r = seededRandom(7);
    modes.push(['hashed', () => Math.floor(r() * 4294967296)]);
  }
  for (const [mode, hashOf] of modes) {
    test(`${name} (${mode}): nothing to pick from an empty level`, () => {
      assert.equal(make().pick(testLevel([]), hashOf(0), null), undefined);
    });

    test(`${name} (${mode}): only usable endpoints outside panic, all of them in panic`, () => {
      const hosts = testHosts([1, 1, 1, 1]);
      hosts[1].healthy = false;
      hosts[3].healthy = false;
      const b = make();
      const seen = new Set<string>();
      const level = testLevel(hosts);
      for (let i = 0; i < 400; i++) seen.add(b.pick(level, hashOf(i), null)!.key);
      assert.deepEqual([...seen].sort(), [hosts[0].key, hosts[2].key]);
      const panic = testLevel(hosts, { panic: true });
      const all = new Set<string>();
      for (let i = 0; i < 400; i++) all.add(b.pick(panic, hashOf(i), null)!.key);
      assert.equal(all.size, 4);
    });

    test(`${name} (${mode}): equal weights spread evenly`, () => {
      const hosts = testHosts([1, 1, 1, 1]);
      const d = distribution(make(), testLevel(hosts), 20_000, hashOf);
      for (const h of hosts) assert.ok(Math.abs((d.get(h.key) ?? 0) - 0.25) < 0.04, `${h.key}: ${d.get(h.key)}`);
    });

    test(`${name} (${mode}): traffic in proportion to endpoint weights`, () => {
      const hosts = testHosts([1, 2, 3, 4]);
      const d = distribution(make(), testLevel(hosts), 40_000, hashOf);
      for (const h of hosts) {
        const want = h.weight / 10;
        assert.ok(Math.abs((d.get(h.key) ?? 0) - want) < 0.04, `${h.key}: ${d.get(h.key)} want ${want}`);
      }
    });

    test(`${name} (${mode}): the failed endpoint is avoided when another is usable`, () => {
      const hosts = testHosts([1, 1, 1]);
      const b = make();
      const level = testLevel(hosts);
      for (let i = 0; i < 300; i++) {
        const avoid = hosts[i % 3];
        const got = b.pick(level, hashOf(i), avoid);
        assert.ok(got !== undefined && got !== avoid);
      }
      const single = testLevel([hosts[0]]);
      assert.equal(b.pick(single, hashOf(0), hosts[0]), hosts[0], 'a lone endpoint is still used');
    });
  }
}

/**
 * What consistent-hash balancers add: stable placement, and ~1/n of the keys move per change.
 * `exact`: moved keys go only to the added endpoint or come only from the removed one (ring hash);
 * Maglev trades a little extra movement for its O(1) table.
 */
export function consistentHashContract(name: string, make: () => Balancer, opts: { exact?: boolean } = {}): void {
  const keys = (() => {
    const r = seededRandom(11);
    return Array.from({ length: 10_000 }, () => Math.floor(r() * 4294967296));
  })();
  const place = (b: Balancer, level: LevelView<TestHost>) => keys.map((k) => b.pick(level, k, null)!.key);

  test(`${name}: the same key always reaches the same endpoint, across instances`, () => {
    const hosts = testHosts([1, 1, 1, 1, 1]);
    const a = place(make(), testLevel(hosts));
    const b = make();
    const level = testLevel(hosts);
    assert.deepEqual(place(b, level), a);
    assert.deepEqual(place(b, level), a);
  });

  test(`${name}: adding an endpoint to ten moves about 1/11 of the keys, all to the new one`, () => {
    const ten = testHosts(new Array(11).fill(1));
    const newcomer = ten.pop()!;
    const b = make();
    const before = place(b, testLevel(ten));
    const after = place(b, testLevel([...ten, newcomer]));
    let moved = 0;
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      if (opts.exact) assert.equal(after[i], newcomer.key);
    }
    assert.ok(moved / keys.length <= 1 / 11 + 0.05, `moved ${moved / keys.length}`);
    assert.ok(moved / keys.length >= 1 / 11 - 0.05, `moved ${moved / keys.length}`);
  });

  test(`${name}: removing one of six endpoints moves about its own keys only`, () => {
    const hosts = testHosts([1, 1, 1, 1, 1, 1]);
    const b = make();
    const before = place(b, testLevel(hosts));
    const gone = hosts[2].key;
    const after = place(b, testLevel(hosts.filter((h) => h.key !== gone)));
    let others = 0;
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === gone || before[i] === after[i]) continue;
      others++;
      if (opts.exact) assert.fail(`key ${i} moved from ${before[i]} to ${after[i]}`);
    }
    assert.ok(others / keys.length <= 0.05, `other keys moved: ${others / keys.length}`);
  });

  test(`${name}: an unhealthy endpoint's keys spread over the others and come back when it recovers`, () => {
    const hosts = testHosts([1, 1, 1, 1]);
    const b = make();
    const v = { version: ++version };
    const before = place(b, testLevel(hosts, v));
    hosts[1].healthy = false;
    const during = place(b, testLevel(hosts, v));
    const takers = new Set<string>();
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === hosts[1].key) { assert.notEqual(during[i], hosts[1].key); takers.add(during[i]); }
      else assert.equal(during[i], before[i]);
    }
    assert.ok(takers.size >= 2, 'spread over more than one endpoint');
    hosts[1].healthy = true;
    assert.deepEqual(place(b, testLevel(hosts, v)), before);
  });
}
