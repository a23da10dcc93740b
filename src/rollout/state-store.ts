/**
 * Rollout progress that survives a restart: one JSON file holding, per rollout (`namespace/name`),
 * the hash of the spec it belongs to, the phase, the step and when it started, failed checks and the
 * tail of its history. Written atomically (temporary file, fsync, rename, fsync of the directory),
 * so a crash leaves either the old file or the new one. An unreadable file is moved aside as
 * `<file>.corrupt` and every rollout starts fresh, with a warning.
 *
 * Format (version 1):
 *   {"version":1,"rollouts":{"default/productcatalog":{"specHash":"9f2c...","phase":"Progressing",
 *    "step":2,"stepStartedAt":1767225600000,"pausedAt":null,"pauseReason":null,"failures":0,
 *    "history":[{"at":...,"rollout":"default/productcatalog","from":"Progressing","to":"Progressing","step":2,"reason":"..."}]}}}
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export type Phase = 'Pending' | 'Progressing' | 'Paused' | 'Completed' | 'RolledBack' | 'Aborted';
export const PHASES: readonly Phase[] = ['Pending', 'Progressing', 'Paused', 'Completed', 'RolledBack', 'Aborted'];

export interface RolloutEvent {
  readonly at: number;
  /** `namespace/name`. */
  readonly rollout: string;
  readonly from: Phase;
  readonly to: Phase;
  /** Step index after the transition. */
  readonly step: number;
  readonly reason: string;
}

export interface PersistedRollout {
  readonly specHash: string;
  readonly phase: Phase;
  readonly step: number;
  /** Epoch ms the current step started (null before the rollout started). */
  readonly stepStartedAt: number | null;
  /** Set while paused: when, and whether by an operator or at a `pause: {}` step. */
  readonly pausedAt: number | null;
  readonly pauseReason: 'operator' | 'step' | null;
  readonly failures: number;
  readonly history: readonly RolloutEvent[];
}

export interface RolloutStateStore {
  /** Saved rollouts by `namespace/name` (empty when there is no file or it was unreadable). */
  load(): Map<string, PersistedRollout>;
  /** Replaces the saved state with these rollouts. */
  save(rollouts: ReadonlyMap<string, PersistedRollout>): void;
}

export interface FileStateStoreOptions {
  /** Called with a message when the file is unreadable or an entry is invalid. */
  readonly onWarning?: (message: string) => void;
  /** History events kept per rollout in the file. Default 20. */
  readonly historyTail?: number;
}

const VERSION = 1;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function validEvent(v: unknown): v is RolloutEvent {
  return isRecord(v) && isTime(v.at) && typeof v.rollout === 'string' && PHASES.includes(v.from as Phase)
    && PHASES.includes(v.to as Phase) && Number.isInteger(v.step) && typeof v.reason === 'string';
}

/** Checks one saved entry; returns what is wrong, or undefined. */
export function invalidEntry(v: unknown): string | undefined {
  if (!isRecord(v)) return 'not a mapping';
  if (typeof v.specHash !== 'string' || v.specHash === '') return 'specHash missing';
  if (!PHASES.includes(v.phase as Phase)) return `unknown phase ${JSON.stringify(v.phase)}`;
  if (!Number.isInteger(v.step) || (v.step as number) < 0) return 'step must be a non-negative integer';
  if (v.stepStartedAt !== null && !isTime(v.stepStartedAt)) return 'stepStartedAt must be a time or null';
  if (v.pausedAt !== null && !isTime(v.pausedAt)) return 'pausedAt must be a time or null';
  if (v.pauseReason !== null && v.pauseReason !== 'operator' && v.pauseReason !== 'step') return 'pauseReason must be operator, step or null';
  if (!Number.isInteger(v.failures) || (v.failures as number) < 0) return 'failures must be a non-negative integer';
  if (!Array.isArray(v.history) || !v.history.every(validEvent)) return 'history is malformed';
  return undefined;
}

/** Writes `text` to `path` so that readers see the old or the new content, never a mix. */
export function writeFileAtomic(path: string, text: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some platforms cannot fsync a directory; the rename itself is still atomic.
  }
}

export function createFileStateStore(path: string, opts: FileStateStoreOptions = {}): RolloutStateStore {
  const warn = opts.onWarning ?? (() => {});
  const tail = opts.historyTail ?? 20;

  function setAside(why: string): Map<string, PersistedRollout> {
    const aside = `${path}.corrupt`;
    try {
      renameSync(path, aside);
      warn(`rollout state file ${path} ${why}; moved it to ${aside} and starting every rollout fresh`);
    } catch (err) {
      warn(`rollout state file ${path} ${why}, and it could not be moved aside (${(err as Error).message}); starting every rollout fresh`);
    }
    return new Map();
  }

  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
        warn(`rollout state file ${path} could not be read (${(err as Error).message}); starting every rollout fresh`);
        return new Map();
      }
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (err) {
        return setAside(`is not valid JSON (${(err as Error).message})`);
      }
      if (!isRecord(doc) || doc.version !== VERSION || !isRecord(doc.rollouts)) {
        return setAside(`is not a version ${VERSION} rollout state file`);
      }
      const out = new Map<string, PersistedRollout>();
      for (const [key, entry] of Object.entries(doc.rollouts)) {
        const problem = invalidEntry(entry);
        if (problem) warn(`rollout state for ${key} in ${path} ignored: ${problem}; it starts fresh`);
        else out.set(key, entry as unknown as PersistedRollout);
      }
      return out;
    },
    save(rollouts) {
      const doc: { version: number; rollouts: Record<string, PersistedRollout> } = { version: VERSION, rollouts: {} };
      for (const [key, r] of [...rollouts].sort(([a], [b]) => (a < b ? -1 : 1))) {
        doc.rollouts[key] = { ...r, history: r.history.slice(-tail) };
      }
      writeFileAtomic(path, `${JSON.stringify(doc, null, 1)}\n`);
    },
  };
}

/** A store that keeps the last save in memory (tests, and runs without a state file). */
export function createMemoryStateStore(initial?: ReadonlyMap<string, PersistedRollout>): RolloutStateStore & { saves: number } {
  let current = new Map(initial ?? []);
  const store = {
    saves: 0,
    load: () => new Map(current),
    save(rollouts: ReadonlyMap<string, PersistedRollout>) {
      // A JSON round trip, as the file store does, so nothing is shared with the caller.
      current = new Map(JSON.parse(JSON.stringify([...rollouts])) as [string, PersistedRollout][]);
      store.saves++;
    },
  };
  return store;
}
