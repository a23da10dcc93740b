import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_OUTLIER_DETECTION, type OutlierDetectionSpec } from '../../snapshot/index.ts';
import type { Clock, Timer } from '../../lib/index.ts';
import { OutlierDetector } from './outlier.ts';
import { Host } from './host.ts';
import type { UpstreamPool } from './pool.ts';

function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  const timers: { at: number; fn: () => void; live: boolean }[] = [];
  return {
    now: () => now,
    monotonic: () => now,
    setTimer(ms, fn): Timer { const t = { at: now + ms, fn, live: true }; timers.push(t); return { cancel: () => { t.live = false; } }; },
    advance(ms) {
      now += ms;
      for (const t of timers) if (t.live && t.at <= now) { t.live = false; t.fn(); }
    },
  };
}

function setup(over: Partial<OutlierDetectionSpec>, n = 2) {
  const clock = fakeClock();
  const hosts = Array.from({ length: n }, (_, i) => new Host('10.0.0.1', 8000 + i, {} as UpstreamPool));
  let refreshes = 0;
  const od = new OutlierDetector({ ...DEFAULT_OUTLIER_DETECTION, baseEjectionMs: 1000, maxEjectionMs: 2500, intervalMs: 5000, ...over }, clock, {
    ready: hosts, refresh: () => { refreshes++; },
  });
  return { clock, hosts, od, refreshes: () => refreshes };
}

test('ejection time grows with each ejection, capped at max, and decays while back in service', () => {
  const { clock, hosts: [h], od, refreshes } = setup({ consecutiveConnectFailures: 2 });
  const eject = () => { od.failure(h, true); od.failure(h, true); };
  eject();
  assert.equal(h.healthy, false);
  assert.equal(refreshes(), 1);
  clock.advance(999);
  assert.equal(h.healthy, false);
  clock.advance(1);
  assert.equal(h.healthy, true, 'back after base × 1');
  eject();
  clock.advance(1999);
  assert.equal(h.healthy, false, 'second ejection lasts base × 2');
  clock.advance(1);
  eject();
  clock.advance(2499);
  assert.equal(h.healthy, false);
  clock.advance(1);
  assert.equal(h.healthy, true, 'capped at maxEjectionMs');
  assert.equal(h.timesEjected, 3);
  clock.advance(10_000); // two intervals back in service: the multiplier decays by two
  eject();
  assert.equal(h.timesEjected, 2);
});

test('a response below 500 resets the streaks; a 5xx breaks a connect-failure streak but counts as 5xx', () => {
  const { hosts: [h], od } = setup({ consecutive5xx: 3, consecutiveConnectFailures: 0 });
  od.response(h, 500);
  od.response(h, 500);
  od.response(h, 404);
  od.response(h, 500);
  od.response(h, 500);
  assert.equal(h.healthy, true);
  od.failure(h, true);
  assert.equal(h.healthy, false, 'a connect failure counts as a 5xx too');
  const c = setup({ consecutive5xx: 0, consecutiveConnectFailures: 2 });
  const [g] = c.hosts;
  c.od.failure(g, true);
  c.od.response(g, 503);
  c.od.failure(g, true);
  assert.equal(g.healthy, true, 'the 503 broke the connect-failure streak');
  c.od.failure(g, true);
  assert.equal(g.healthy, false);
});

test('maxEjectionPercent: at least one, at most the share; 0 never ejects', () => {
  const ten = setup({ consecutive5xx: 1, maxEjectionPercent: 20 }, 10);
  for (const h of ten.hosts) ten.od.response(h, 500);
  assert.equal(ten.hosts.filter((h) => !h.healthy).length, 2);
  const two = setup({ consecutive5xx: 1, maxEjectionPercent: 10 }, 2);
  for (const h of two.hosts) two.od.response(h, 500);
  assert.equal(two.hosts.filter((h) => !h.healthy).length, 1);
  const none = setup({ consecutive5xx: 1, maxEjectionPercent: 0 }, 2);
  for (const h of none.hosts) none.od.response(h, 500);
  assert.equal(none.hosts.filter((h) => !h.healthy).length, 0);
});
