/**
 * Watches configuration files and directories and says when something under them changed.
 * It only signals; reading and parsing belong to resources/ and the store.
 *
 * Every directory (each configured one and all its subdirectories) gets its own non-recursive watch,
 * and single files are watched through their parent directory: a directory watch keeps seeing a
 * file that editors and config management replace by rename (write a temp file, rename it over the
 * original), where a watch on the file itself would stay on the replaced inode. New subdirectories
 * are picked up on the next event. Bursts of events are coalesced into one signal.
 */
import { watch, readdirSync, statSync, type FSWatcher } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { systemClock, type Clock, type Timer } from '../lib/index.ts';

export interface FileWatcher {
  close(): void;
}

export interface WatchOptions {
  /** Quiet period after the last event before `onChange` runs (default 50 ms). */
  debounceMs?: number;
  clock?: Clock;
  /** Called when watching itself fails (e.g. a directory was removed). */
  onError?: (err: Error) => void;
}

const YAML = /\.ya?ml$/i;

/** Calls `onChange` (debounced) whenever a YAML file under `paths` is created, changed or removed. */
export function watchPaths(paths: readonly string[], onChange: () => void, options: WatchOptions = {}): FileWatcher {
  const clock = options.clock ?? systemClock;
  const debounceMs = options.debounceMs ?? 50;
  const watchers = new Map<string, FSWatcher>();
  let timer: Timer | null = null;
  let closed = false;

  const fire = () => {
    if (closed) return;
    timer?.cancel();
    timer = clock.setTimer(debounceMs, () => {
      timer = null;
      if (!closed) onChange();
    });
  };

  /** Watches `dir`; `only` restricts events to one file name (a configured single file). */
  const watchDir = (dir: string, only: string | null) => {
    const key = only === null ? dir : `${dir}\0${only}`;
    if (closed || watchers.has(key)) return;
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: false }, (_event, filename) => {
        const name = filename === null ? null : String(filename);
        if (only !== null) {
          if (name === null || name === only) fire();
          return;
        }
        if (name === null || YAML.test(name)) fire();
        if (name !== null && !name.startsWith('.')) addTree(join(dir, name));
      });
    } catch (err) {
      options.onError?.(err as Error);
      return;
    }
    w.on('error', (err) => {
      watchers.delete(key);
      w.close();
      options.onError?.(err);
    });
    watchers.set(key, w);
  };

  /** Watches `dir` and every directory below it (dot-directories skipped). */
  const addTree = (dir: string) => {
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      return;
    }
    if (!isDir) return;
    watchDir(dir, null);
    let entries: string[] = [];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) if (!e.startsWith('.')) addTree(join(dir, e));
  };

  for (const p of paths) {
    const abs = resolve(p);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      // Not there yet: watch its directory for it to appear.
    }
    if (isDir) addTree(abs);
    else watchDir(dirname(abs), basename(abs));
  }

  return {
    close() {
      closed = true;
      timer?.cancel();
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
