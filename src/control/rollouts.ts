/**
 * Runs the Rollouts of one Ferry process: the controller (with its state file, so a restart resumes
 * at the same step), the sliding windows it judges by (fed from the proxy's request records), and
 * the response diffs of mirror steps (fed from the proxy's mirror samples). It tells compile which
 * traffic override each Rollout wants, learns from compile which rule and backends each Rollout
 * resolved to, and serves status and control to the admin API.
 */
import { mirrorChannel, requestChannel, type CapturedResponse, type MirrorSample, type RequestRecord } from '../snapshot/index.ts';
import { createRolloutController, createFileStateStore, createMemoryStateStore, recordDiffVerdict, recordMirrored, specHash, windowMeasure, type RolloutController, type RolloutEvent, type TrafficOverride, type RolloutTargets, type ControlResult } from '../rollout/index.ts';
import { createRequestWindows, isFailure } from '../observe/window.ts';
import { createDiffAggregator, type DiffAggregator } from '../diff/index.ts';
import type { RolloutSpec } from '../resources/rollout.ts';
import type { RolloutAdmin, RolloutAction } from '../admin/index.ts';
import type { Clock } from '../lib/index.ts';

/** What compile says about one Rollout. */
export interface CompiledRollout {
  readonly namespace: string;
  readonly name: string;
  readonly spec: RolloutSpec;
  readonly targets: RolloutTargets | null;
  readonly problem: string | null;
}

export interface RolloutRuntimeOptions {
  clock: Clock;
  /** State file path, or null to keep state in memory only. */
  stateFile: string | null;
  /** Called when any Rollout's traffic override changed: recompile and apply. */
  onOverridesChanged: () => void;
  onEvent: (event: RolloutEvent) => void;
  onWarning: (message: string) => void;
  /** Controller tick period (default 250 ms). */
  tickMs?: number;
}

export interface RolloutRuntime {
  /** The override of every Rollout, for compile. */
  overrides(): ReadonlyMap<string, TrafficOverride>;
  /** Tells the controller what compile resolved; starts new Rollouts and forgets removed ones. */
  sync(rollouts: Readonly<Record<string, CompiledRollout>>): void;
  readonly admin: RolloutAdmin;
  close(): void;
}

/** Gate rules (`<rule>/rollout-gate`) carry the candidate's share of a gated rule: judge them together. */
const GATE_SUFFIX = '/rollout-gate';

const compared = (r: CapturedResponse) => ({ status: r.status, headers: r.headers, body: r.body });

export function createRolloutRuntime(o: RolloutRuntimeOptions): RolloutRuntime {
  const windows = createRequestWindows();
  const diffs = new Map<string, DiffAggregator>();
  const specs = new Map<string, RolloutSpec>();
  /** Spec hash per Rollout: response diffs start over only when the spec really changed. */
  const hashes = new Map<string, string>();
  let lastOverrides = '';

  const controller: RolloutController = createRolloutController({
    clock: o.clock,
    measure: windowMeasure(windows),
    store: o.stateFile ? createFileStateStore(o.stateFile, { onWarning: o.onWarning }) : createMemoryStateStore(),
    onWarning: o.onWarning,
    onEvent: (e) => {
      o.onEvent(e);
      checkOverrides();
    },
  });

  const overrides = (): Map<string, TrafficOverride> => {
    const out = new Map<string, TrafficOverride>();
    for (const s of controller.list()) {
      const ov = controller.override(s.rollout);
      if (ov) out.set(s.rollout, ov);
    }
    return out;
  };
  const checkOverrides = () => {
    const now = JSON.stringify([...overrides()]);
    if (now === lastOverrides) return;
    lastOverrides = now;
    queueMicrotask(o.onOverridesChanged);
  };

  // HOT PATH: one call per finished request while a Rollout exists.
  const onRequest = (message: unknown) => {
    const rec = message as RequestRecord;
    if (rec.rule === null || rec.backend === null) return;
    const rule = rec.rule.endsWith(GATE_SUFFIX) ? rec.rule.slice(0, -GATE_SUFFIX.length) : rec.rule;
    windows.record(rule, rec.backend, rec.startTime + rec.durationMs, rec.durationMs, isFailure(rec.status, rec.error));
  };
  const onMirror = (message: unknown) => {
    const m = message as MirrorSample;
    const spec = specs.get(m.key);
    if (!spec) return;
    const at = o.clock.now();
    const failed = m.candidate.error !== undefined || m.candidate.status >= 500;
    recordMirrored(windows, m.ruleId, m.backend, at, m.candidate.durationMs, failed);
    if (m.candidate.error !== undefined || m.primary.error !== undefined || m.primary.truncated || m.candidate.truncated) return;
    let agg = diffs.get(m.key);
    if (!agg) {
      agg = createDiffAggregator({ compare: { ignoreHeaders: spec.mirror?.ignore?.headers ?? [], ignoreFields: spec.mirror?.ignore?.fields ?? [] } });
      diffs.set(m.key, agg);
    }
    const secondary = m.secondary && m.secondary.error === undefined && !m.secondary.truncated ? compared(m.secondary) : undefined;
    const result = agg.record(m.key, compared(m.primary), compared(m.candidate), secondary, { method: m.method, path: m.path });
    recordDiffVerdict(windows, m.ruleId, m.backend, at, result.differing);
  };
  requestChannel.subscribe(onRequest);
  mirrorChannel.subscribe(onMirror);
  const stopTicking = controller.start(o.tickMs ?? 250);

  const act = (key: string, action: RolloutAction): ControlResult => {
    switch (action) {
      case 'promote': return controller.promote(key);
      case 'pause': return controller.pause(key);
      case 'resume': return controller.resume(key);
      case 'abort': return controller.abort(key, 'aborted by hand');
      case 'retry': return controller.retry(key);
      default: return { ok: false, error: `unknown action ${String(action)}` };
    }
  };

  return {
    overrides,
    sync(rollouts) {
      for (const s of controller.list()) {
        if (!(s.rollout in rollouts)) {
          controller.remove(s.rollout);
          specs.delete(s.rollout);
          hashes.delete(s.rollout);
          diffs.delete(s.rollout);
        }
      }
      for (const [key, r] of Object.entries(rollouts)) {
        const hash = specHash(r.spec);
        if (hashes.get(key) !== hash) diffs.delete(key);
        hashes.set(key, hash);
        specs.set(key, r.spec);
        controller.upsert({ namespace: r.namespace, name: r.name, spec: r.spec, ...(r.targets ? { targets: r.targets } : {}) });
        controller.setTargets(key, r.targets ?? undefined);
      }
      controller.tick();
      checkOverrides();
    },
    admin: {
      list: () => controller.list(),
      get: (key) => controller.status(key),
      control(key, action) {
        const r = act(key, action);
        checkOverrides();
        return r.ok ? { ok: true, status: controller.status(key) } : { ok: false, error: (r as { error: string }).error };
      },
      diffs: (key?: string) => (key === undefined
        ? { rollouts: [...diffs.values()].flatMap((d) => d.summary()) }
        : specs.has(key) ? diffs.get(key)?.summary(key) ?? { compared: 0 } : undefined),
    },
    close() {
      stopTicking();
      requestChannel.unsubscribe(onRequest);
      mirrorChannel.unsubscribe(onMirror);
    },
  };
}
