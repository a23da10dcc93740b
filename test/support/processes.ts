/**
 * Ferry as a child process for integration and end-to-end tests: spawns `src/cli/main.ts run`, keeps
 * every stdout and stderr line, waits for lines (or the `listening` log line) with a deadline, and
 * stops it with a signal. Processes still running when the test process exits are killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FERRY_NODE_FLAGS } from '../../src/cli/node-flags.ts';

/** The repository root (two levels above this file). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface ProcessOptions {
  /** Working directory; default the repository root. */
  cwd?: string;
  /** Added to (and overriding) the parent's environment. */
  env?: Record<string, string>;
}

export interface ReadyInfo {
  sockets: { key: string; host: string; port: number; protocol: string }[];
  admin: { host: string; port: number } | null;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  /** Resolves with the first line (stdout or stderr, past or future) matching `re`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Lines written so far. */
  stdout(): string[];
  stderr(): string[];
  /** Both streams, in the order the lines were read. */
  lines(): string[];
  /** Resolves once the process has exited. */
  exited(): Promise<ExitInfo>;
  /** Sends `signal`, waits for exit; after `timeoutMs` sends SIGKILL. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitInfo>;
  kill(): void;
}

export interface FerryProcess extends NodeProcess {
  /** Waits for the `"msg":"listening"` log line and returns its sockets and admin address. */
  waitForReady(timeoutMs?: number): Promise<ReadyInfo>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Runs `node ...nodeFlags <script> ...args` with the current Node binary. */
export function startNodeProcess(script: string, args: string[], opts: ProcessOptions = {}, nodeFlags: readonly string[] = []): NodeProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  delete env.NODE_TEST_CONTEXT; // the child is not part of this test run
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], { cwd: opts.cwd ?? repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const out: string[] = [];
  const err: string[] = [];
  const all: string[] = [];
  const waiters = new Set<{ re: RegExp; resolve: (line: string) => void }>();
  const onLine = (into: string[]) => (line: string) => {
    into.push(line);
    all.push(line);
    for (const w of waiters) {
      if (w.re.test(line)) {
        waiters.delete(w);
        w.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine(out));
  createInterface({ input: child.stderr! }).on('line', onLine(err));

  let exitInfo: ExitInfo | null = null;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  const tail = () => all.slice(-30).join('\n');

  const waitForLine = (re: RegExp, timeoutMs = 10_000): Promise<string> => {
    const seen = all.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    if (exitInfo) return Promise.reject(new Error(`process exited (${JSON.stringify(exitInfo)}) before printing ${re}\n${tail()}`));
    return new Promise((resolve, reject) => {
      const waiter = {
        re,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no line matching ${re} within ${timeoutMs} ms\n${tail()}`));
      }, timeoutMs);
      waiters.add(waiter);
      void exited.then((info) => {
        if (!waiters.delete(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`process exited (${JSON.stringify(info)}) before printing ${re}\n${tail()}`));
      });
    });
  };

  return {
    child,
    pid: child.pid,
    waitForLine,
    stdout: () => [...out],
    stderr: () => [...err],
    lines: () => [...all],
    exited: () => exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000) {
      if (exitInfo) return exitInfo;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      if (!exitInfo) child.kill('SIGKILL');
    },
  };
}

/** Parses the `listening` line printed by `ferry run` once it serves. */
export function parseReadyLine(line: string): ReadyInfo {
  const parsed = JSON.parse(line) as Partial<ReadyInfo>;
  return { sockets: parsed.sockets ?? [], admin: parsed.admin ?? null };
}

/** Starts `ferry run ...args` from the repository's sources, with the Node flags Ferry runs with. */
export function startFerry(args: string[], opts: ProcessOptions = {}): FerryProcess {
  const proc = startNodeProcess(join(repoRoot, 'src', 'cli', 'main.ts'), ['run', ...args], opts, FERRY_NODE_FLAGS);
  return {
    ...proc,
    async waitForReady(timeoutMs = 15_000) {
      return parseReadyLine(await proc.waitForLine(/"msg":"listening"/, timeoutMs));
    },
  };
}
