import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { WindowStats } from '../observe/window.ts';
import { rolloutSpec } from '../resources/rollout.ts';
import type { AnalysisInput } from './analysis.ts';
import { createRolloutController } from './controller.ts';
import { specHash } from './spec.ts';
import { createFileStateStore, createMemoryStateStore, invalidEntry, type PersistedRollout } from './state-store.ts';
import { ManualClock } from '../../test/support/manual-clock.ts';
import type { MeasureRequest } from './types.ts';

const KEY = 'default/productcatalog';
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-rollout-'));
  dirs.push(dir);
  return join(dir, 'state', 'rollouts.json');
}

function stats(count: number, errors = 0): WindowStats {
  return { count, errors, successRate: count === 0 ? 100 : ((count - errors) / count) * 100, p50: 5, p90: 9, p95: 10, p99: 12 };
}

const HEALTHY: AnalysisInput = { candidate: stats(100), stable: stats(400) };

const STEPS = [{ weight: 20, duration: '30s' }, { weight: 50, duration: '30s' }, { pause: {} }, { weight: 100 }];
function spec(steps: unknown[] = STEPS) {
  return rolloutSpec.parse({
    targetRef: { kind: 'HTTPRoute', name: 'productcatalog' },
    stable: { name: 'productcatalog-vm', port: 3550 },
    candidate: { name: 'productcatalog-k8s', port: 3550 },
    analysis: { interval: '1s', window: '5s', minSamples: 50, successRate: { min: 99 } },
    steps,
  });
}

function start(path: string, clock: ManualClock, warnings: string[] = [], calls: { req: MeasureRequest; windowMs: number }[] = []) {
  const c = createRolloutController({
    clock,
    measure: (req, windowMs) => {
      calls.push({ req, windowMs });
      return HEALTHY;
    },
    store: createFileStateStore(path, { onWarning: (m) => warnings.push(m) }),
  });
  c.upsert({ namespace: 'default', name: 'productcatalog', spec: spec() });
  return c;
}

function run(c: ReturnType<typeof start>, clock: ManualClock, ms: number): void {
  for (let t = 0; t < ms; t += 100) {
    clock.advance(100);
    c.tick();
  }
}

describe('rollout state store', () => {
  it('round-trips through the file, in the documented format', () => {
    const path = tempFile();
    const store = createFileStateStore(path);
    assert.deepEqual(store.load(), new Map());
    const entry: PersistedRollout = {
      specHash: 'abc', phase: 'Progressing', step: 2, stepStartedAt: 1_000, pausedAt: null, pauseReason: null, failures: 1,
      history: [{ at: 900, rollout: KEY, from: 'Progressing', to: 'Progressing', step: 2, reason: 'r' }],
    };
    store.save(new Map([[KEY, entry]]));
    const doc = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(doc.version, 1);
    assert.deepEqual(doc.rollouts[KEY], entry);
    assert.deepEqual(store.load(), new Map([[KEY, entry]]));
    // no temporary file left behind
    assert.deepEqual(readdirSync(join(path, '..')), ['rollouts.json']);
  });

  it('keeps only the history tail in the file', () => {
    const path = tempFile();
    const store = createFileStateStore(path, { historyTail: 2 });
    const history = [1, 2, 3].map((at) => ({ at, rollout: KEY, from: 'Pending' as const, to: 'Progressing' as const, step: 0, reason: String(at) }));
    store.save(new Map([[KEY, { specHash: 'a', phase: 'Progressing', step: 0, stepStartedAt: 0, pausedAt: null, pauseReason: null, failures: 0, history }]]));
    assert.deepEqual(store.load().get(KEY)!.history.map((e) => e.at), [2, 3]);
  });

  it('moves a corrupt file aside and starts fresh with a warning', () => {
    const path = tempFile();
    createFileStateStore(path).save(new Map());
    writeFileSync(path, '{"version":1,"rollouts":{');
    const warnings: string[] = [];
    const loaded = createFileStateStore(path, { onWarning: (m) => warnings.push(m) }).load();
    assert.equal(loaded.size, 0);
    assert.equal(existsSync(path), false);
    assert.equal(readFileSync(`${path}.corrupt`, 'utf8'), '{"version":1,"rollouts":{');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /is not valid JSON .*moved it to .*rollouts\.json\.corrupt and starting every rollout fresh/);
    writeFileSync(path, '{"version":7,"rollouts":{}}');
    createFileStateStore(path, { onWarning: (m) => warnings.push(m) }).load();
    assert.match(warnings[1], /is not a version 1 rollout state file/);
  });

  it('ignores invalid entries one by one', () => {
    const path = tempFile();
    const good = { specHash: 'a', phase: 'Completed', step: 1, stepStartedAt: 5, pausedAt: null, pauseReason: null, failures: 0, history: [] };
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, JSON.stringify({ version: 1, rollouts: { 'default/good': good, 'default/bad': { ...good, phase: 'Exploded' } } }));
    const warnings: string[] = [];
    const loaded = createFileStateStore(path, { onWarning: (m) => warnings.push(m) }).load();
    assert.deepEqual([...loaded.keys()], ['default/good']);
    assert.deepEqual(warnings, [`rollout state for default/bad in ${path} ignored: unknown phase "Exploded"; it starts fresh`]);
    assert.equal(invalidEntry({ ...good, step: -1 }), 'step must be a non-negative integer');
    assert.equal(invalidEntry({ ...good, history: [{ at: 'x' }] }), 'history is malformed');
    assert.equal(invalidEntry({ ...good, pauseReason: 'nap' }), 'pauseReason must be operator, step or null');
    assert.equal(invalidEntry(null), 'not a mapping');
  });

  it('a restarted controller resumes mid-step: elapsed time from the saved start, analysis window fresh', () => {
    const path = tempFile();
    const clock = new ManualClock();
    const first = start(path, clock);
    first.tick();
    run(first, clock, 30_000);
    assert.equal(first.status(KEY)!.step, 1);
    run(first, clock, 10_000); // 10 s into the 30 s "weight 50" step
    const savedAt = first.status(KEY)!.stepStartedAt;
    assert.deepEqual(first.override(KEY)!.weights, { stable: 50, candidate: 50 });

    // "restart": a new controller on the same file, some seconds later
    clock.advance(3_000);
    const calls: { req: MeasureRequest; windowMs: number }[] = [];
    const second = start(path, clock, [], calls);
    const s = second.status(KEY)!;
    assert.equal(s.phase, 'Progressing');
    assert.equal(s.step, 1);
    assert.equal(s.stepStartedAt, savedAt);
    assert.deepEqual(second.override(KEY)!.weights, { stable: 50, candidate: 50 });
    assert.match(s.history.at(-1)!.reason, /^resumed at step 2\/4 after a restart/);
    run(second, clock, 5_000);
    // the analysis window restarted at the restart
    assert.deepEqual(calls.map((x) => x.windowMs), [1_000, 2_000, 3_000, 4_000, 5_000]);
    // 30 s from the saved start have passed (10 + 3 + 5 < 30 → still on the step)
    assert.equal(second.status(KEY)!.step, 1);
    run(second, clock, 12_000);
    assert.equal(second.status(KEY)!.phase, 'Paused');
    assert.equal(second.status(KEY)!.step, 2);
  });

  it('restores paused, rolled back and completed rollouts as they were', () => {
    const path = tempFile();
    const clock = new ManualClock();
    const first = start(path, clock);
    first.tick();
    run(first, clock, 60_000);
    assert.equal(first.status(KEY)!.phase, 'Paused');
    const second = start(path, clock);
    assert.equal(second.status(KEY)!.phase, 'Paused');
    assert.deepEqual(second.override(KEY)!.weights, { stable: 50, candidate: 50 });
    second.abort(KEY);
    const third = start(path, clock);
    assert.equal(third.status(KEY)!.phase, 'Aborted');
    assert.deepEqual(third.override(KEY)!.weights, { stable: 100, candidate: 0 });
    third.retry(KEY);
    for (let i = 0; i < 4; i++) third.promote(KEY);
    assert.equal(start(path, clock).status(KEY)!.phase, 'Completed');
    assert.deepEqual(start(path, clock).override(KEY)!.weights, { stable: 0, candidate: 100 });
  });

  it('starts from step 0 when the spec changed since the state was saved', () => {
    const path = tempFile();
    const clock = new ManualClock();
    const first = start(path, clock);
    first.tick();
    run(first, clock, 31_000);
    assert.equal(first.status(KEY)!.step, 1);
    const saved = createFileStateStore(path).load().get(KEY)!;
    assert.equal(saved.specHash, specHash(spec()));

    const warnings: string[] = [];
    const c = createRolloutController({ clock, measure: () => HEALTHY, store: createFileStateStore(path, { onWarning: (m) => warnings.push(m) }) });
    c.upsert({ namespace: 'default', name: 'productcatalog', spec: spec([{ weight: 10 }, { weight: 100 }]) });
    const s = c.status(KEY)!;
    assert.equal(s.phase, 'Pending');
    assert.equal(s.step, 0);
    assert.deepEqual(s.override.weights, { stable: 100, candidate: 0 });
    assert.equal(s.history.at(-1)!.reason, 'spec changed since the saved state: starting again from step 1');
    assert.equal(s.history.at(-1)!.from, 'Progressing');
    assert.deepEqual(warnings, []);
  });

  it('with a corrupt file, every rollout starts fresh', () => {
    const path = tempFile();
    const clock = new ManualClock();
    const first = start(path, clock);
    first.tick();
    run(first, clock, 31_000);
    writeFileSync(path, 'not json');
    const warnings: string[] = [];
    const second = start(path, clock, warnings);
    assert.equal(second.status(KEY)!.phase, 'Pending');
    assert.equal(warnings.length, 1);
    assert.equal(existsSync(`${path}.corrupt`), true);
    second.tick();
    assert.equal(createFileStateStore(path).load().get(KEY)!.phase, 'Progressing');
  });

  it('keeps saved rollouts that were not loaded yet, until removed', () => {
    const store = createMemoryStateStore(new Map([['other/thing', {
      specHash: 'x', phase: 'Progressing', step: 0, stepStartedAt: 1, pausedAt: null, pauseReason: null, failures: 0, history: [],
    } satisfies PersistedRollout]]));
    const clock = new ManualClock();
    const c = createRolloutController({ clock, measure: () => HEALTHY, store });
    c.upsert({ namespace: 'default', name: 'productcatalog', spec: spec() });
    c.tick();
    assert.deepEqual([...store.load().keys()].sort(), [KEY, 'other/thing']);
    c.remove('other/thing');
    assert.deepEqual([...store.load().keys()], [KEY]);
    c.remove(KEY);
    assert.deepEqual([...store.load().keys()], []);
  });

  it('saves on changes only, and warns when saving fails', () => {
    const store = createMemoryStateStore();
    const clock = new ManualClock();
    const c = createRolloutController({ clock, measure: () => ({ candidate: stats(1), stable: stats(1) }), store });
    c.upsert({ namespace: 'default', name: 'productcatalog', spec: spec() });
    c.tick();
    const saves = store.saves;
    for (let i = 0; i < 50; i++) {
      clock.advance(100);
      c.tick();
    }
    assert.equal(store.saves, saves); // inconclusive analyses change nothing persisted

    const warnings: string[] = [];
    const broken = createRolloutController({
      clock, measure: () => HEALTHY, onWarning: (m) => warnings.push(m),
      store: { load: () => new Map(), save: () => { throw new Error('disk full'); } },
    });
    broken.upsert({ namespace: 'default', name: 'productcatalog', spec: spec() });
    broken.tick();
    assert.deepEqual(warnings, ['rollout state could not be saved: disk full']);
    assert.equal(broken.status(KEY)!.phase, 'Progressing');
  });
});
