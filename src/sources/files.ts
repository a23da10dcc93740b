/**
 * Watches configuration files and directories and says when something under them changed.
 * It only signals; reading and parsing belong to resources/ and the store. Single files are watched
 * through their parent directory so editors that save by rename (write a temp file, rename it over
 * the original) keep being seen. Bursts of events are coalesced into one signal.
 */
import { watch, statSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
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

/** Calls `onChange` (debounced) whenever a YAML file under `paths` is created, changed or removed. */
export function watchPaths(paths: readonly string[], onChange: () => void, options: WatchOptions = {}): FileWatcher {
  const clock = options.clock ?? systemClock;
  const debounceMs = options.debounceMs ?? 50;
  const watchers: FSWatcher[] = [];
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

  for (const p of paths) {
    const abs = resolve(p);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      // A path that does not exist yet: watch its directory for it to appear.
    }
    const target = isDir ? abs : dirname(abs);
    const only = isDir ? null : basename(abs);
    const w = watch(target, { recursive: isDir, persistent: false }, (_event, filename) => {
      if (only !== null && filename !== null && basename(String(filename)) !== only) return;
      if (only === null && filename !== null && !/\.ya?ml$/i.test(String(filename))) return;
      fire();
    });
    w.on('error', (err) => options.onError?.(err));
    watchers.push(w);
  }

  return {
    close() {
      closed = true;
      timer?.cancel();
      for (const w of watchers) w.close();
    },
  };
}
