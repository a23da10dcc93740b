/**
 * Detection-speed simulations: synthetic traffic at 100 req/s on a manual clock, split by the
 * controller's current override, recorded through the request channel into the request windows
 * (and, for mirror steps, compared by the diff aggregator), with the controller ticking every
 * 100 ms. Asserts how many simulated seconds a bad candidate survives, and that a good one is not
 * rolled back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDiffAggregator, type ComparedResponse } from '../diff/index.ts';
import { seededRandom, type Random } from '../lib/index.ts';
import { createRequestWindows } from '../observe/window.ts';
import { rolloutSpec } from '../resources/rollout.ts';
import { requestChannel, type RequestRecord } from '../snapshot/index.ts';
import { createRolloutController } from './controller.ts';
import { recordDiffVerdict, windowMeasure } from './measure.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import type { RolloutTargets } from './types.ts';

const KEY = 'default/productcatalog';
const T: RolloutTargets = {
  ruleId: 'HTTPRoute/default/productcatalog/rule/0',
  stableBackendId: 'Service/default/productcatalog-vm:3550',
  candidateBackendId: 'Service/default/productcatalog-k8s:3550',
};

interface Copy {
  /** Latency in ms and whether the request failed. */
  serve(rng: Random): { ms: number; failed: boolean };
  /** The JSON body it answers with (mirror scenarios). */
  body?(rng: Random, now: number): unknown;
}

const steady = (ms: number, errorRate = 0): Copy => ({
  serve: (rng) => ({ ms: ms * (0.75 + rng() * 0.5), failed: rng() < errorRate }),
});

function record(start: number, backend: string, ms: number, failed: boolean): RequestRecord {
  return {
    startTime: start, gateway: 'default/edge', listener: 'default/edge/http', route: 'HTTPRoute/default/productcatalog',
    rule: T.ruleId, backend, endpoint: '10.0.0.1:3550', method: 'GET', path: '/products', host: 'shop.example.com',
    protocol: 'HTTP/1.1', status: failed ? 503 : 200, durationMs: ms, upstreamMs: ms, bytesIn: 0, bytesOut: 100,
    requestId: 'r', clientAddress: '10.1.1.1', attempts: 1,
  };
}

function json(body: unknown): ComparedResponse {
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}

interface Outcome { rolledBackAfterMs: number | null; completedAfterMs: number | null; phase: string; reason: string }

function simulate(opts: { seed: number; steps: unknown[]; analysis: Record<string, unknown>; stable: Copy; candidate: Copy; seconds: number }): Outcome {
  const clock = new ManualClock();
  const rng = seededRandom(opts.seed);
  const windows = createRequestWindows({ bucketMs: 100, maxWindowMs: 10_000 });
  const diffs = createDiffAggregator({ now: () => clock.now() });
  const controller = createRolloutController({ clock, measure: windowMeasure(windows) });
  controller.upsert({
    namespace: 'default',
    name: 'productcatalog',
    targets: T,
    spec: rolloutSpec.parse({
      targetRef: { kind: 'HTTPRoute', name: 'productcatalog', rule: 0 },
      stable: { name: 'productcatalog-vm', port: 3550 },
      candidate: { name: 'productcatalog-k8s', port: 3550 },
      analysis: opts.analysis,
      steps: opts.steps,
    }),
  });
  const unsubscribe = windows.subscribe();
  const started = clock.now();
  controller.tick();
  let rolledBackAfterMs: number | null = null;
  let completedAfterMs: number | null = null;
  try {
    for (let ms = 10; ms <= opts.seconds * 1000; ms += 10) {
      clock.advance(10);
      const now = clock.now();
      const o = controller.override(KEY)!;
      // one live request every 10 ms, split by the current weights
      const toCandidate = rng() * 100 < o.weights.candidate;
      const copy = toCandidate ? opts.candidate : opts.stable;
      const r = copy.serve(rng);
      requestChannel.publish(record(now - r.ms, toCandidate ? T.candidateBackendId : T.stableBackendId, r.ms, r.failed));
      if (o.mirror && rng() * 100 < o.mirror.percent) {
        const primary = json(opts.stable.body!(rng, now));
        const secondary = json(opts.stable.body!(rng, now + 1));
        const candidate = json(opts.candidate.body!(rng, now + 2));
        const verdict = diffs.record(T.ruleId, primary, candidate, secondary, { method: 'GET', path: '/products' });
        recordDiffVerdict(windows, T.ruleId, T.candidateBackendId, now, verdict.differing);
      }
      if (ms % 100 === 0) controller.tick();
      const s = controller.status(KEY)!;
      if (s.phase === 'RolledBack') {
        rolledBackAfterMs = now - started;
        break;
      }
      if (s.phase === 'Completed') {
        completedAfterMs = now - started;
        break;
      }
    }
  } finally {
    unsubscribe();
  }
  const s = controller.status(KEY)!;
  return { rolledBackAfterMs, completedAfterMs, phase: s.phase, reason: s.history.at(-1)?.reason ?? '' };
}

const FAST = { interval: '1s', window: '5s', minSamples: 20 };
const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

describe('detection speed (simulated)', () => {
  it('rolls back a candidate returning 5% errors at 20% weight within 4 s (median 2 s)', () => {
    const times: number[] = [];
    for (const seed of SEEDS) {
      const o = simulate({
        seed, seconds: 30, steps: [{ weight: 20 }, { weight: 50 }, { weight: 100 }],
        analysis: { ...FAST, successRate: { min: 99 } }, stable: steady(20), candidate: steady(20, 0.05),
      });
      assert.equal(o.phase, 'RolledBack', `seed ${seed}: ${o.phase}`);
      assert.match(o.reason, /candidate success rate/);
      times.push(o.rolledBackAfterMs!);
    }
    times.sort((a, b) => a - b);
    assert.ok(times.at(-1)! <= 4_000, `slowest rollback after ${times.at(-1)} ms`);
    assert.ok(times[times.length >> 1] <= 2_000, `median rollback after ${times[times.length >> 1]} ms`);
  });

  it('rolls back a candidate twice as slow within 2 s', () => {
    for (const seed of SEEDS) {
      const o = simulate({
        seed, seconds: 30, steps: [{ weight: 20 }, { weight: 50 }, { weight: 100 }],
        analysis: { ...FAST, latency: { percentile: 99, maxRatio: 1.5 } }, stable: steady(20), candidate: steady(40),
      });
      assert.equal(o.phase, 'RolledBack', `seed ${seed}`);
      assert.match(o.reason, /candidate p99 .* exceeds 1.5× stable p99/);
      assert.ok(o.rolledBackAfterMs! <= 2_000, `seed ${seed}: rolled back after ${o.rolledBackAfterMs} ms`);
    }
  });

  it('completes a healthy candidate, without a false rollback', () => {
    for (const seed of SEEDS.slice(0, 5)) {
      const o = simulate({
        seed, seconds: 60, steps: [{ weight: 20 }, { weight: 50 }, { weight: 100 }],
        analysis: { ...FAST, successRate: { min: 99 }, latency: { percentile: 99, maxRatio: 1.5 } }, stable: steady(20), candidate: steady(21),
      });
      assert.equal(o.phase, 'Completed', `seed ${seed}: ${o.reason}`);
      // three steps of one full 5 s window each, plus tick granularity
      assert.ok(o.completedAfterMs! <= 16_000, `completed after ${o.completedAfterMs} ms`);
    }
  });

  const product = (priceDiffRate: number): Copy => ({
    serve: steady(20).serve,
    body: (rng, now) => ({ id: 'p1', price: rng() < priceDiffRate ? 11 : 10, tags: ['a', 'b'], meta: { generatedAt: now } }),
  });

  it('rolls back a mirrored candidate whose JSON differs in 10% of responses within 2 s', () => {
    for (const seed of SEEDS.slice(0, 10)) {
      const o = simulate({
        seed, seconds: 60, steps: [{ mirror: { percent: 100 } }, { weight: 100 }],
        analysis: { ...FAST, diff: { maxRate: 1 } }, stable: product(0), candidate: product(0.1),
      });
      assert.equal(o.phase, 'RolledBack', `seed ${seed}`);
      assert.match(o.reason, /of compared responses differ/);
      assert.ok(o.rolledBackAfterMs! <= 2_000, `seed ${seed}: rolled back after ${o.rolledBackAfterMs} ms`);
    }
  });

  it('passes a mirror step whose only differences are noise (a timestamp)', () => {
    const o = simulate({
      seed: 3, seconds: 60, steps: [{ mirror: { percent: 100 } }, { weight: 100 }],
      analysis: { ...FAST, diff: { maxRate: 1 } }, stable: product(0), candidate: product(0),
    });
    assert.equal(o.phase, 'Completed', o.reason);
  });
});
