/** Process plumbing for the bench: pinned spawns, /proc CPU and memory readings, idle-CPU gating, readiness waits. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

export const TICK_US = 1e6 / 100; // CLK_TCK is 100 on Linux

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** stdout+stderr, capped, for error messages. */
  output: () => string;
  exited: Promise<number | null>;
  stop: () => Promise<void>;
}

const live = new Set<Spawned>();

/** Stop every process the bench started that is still running (on SIGINT/SIGTERM). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

/** Start `cmd args` pinned to `cpu` (taskset execs, so the pid is the program's own). */
export function spawnPinned(cpu: number | string, cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Spawned {
  const child = spawn('taskset', ['-c', String(cpu), cmd, ...args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 20_000) out = out.slice(-10_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
    child.on('error', () => resolve(127));
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const tree = treePids(child.pid!);
    child.kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
    if (!done) child.kill('SIGKILL');
    for (const pid of tree) {
      if (pid === child.pid) continue;
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    await exited;
  };
  const spawned: Spawned = { child, pid: child.pid ?? -1, output: () => out, exited, stop };
  live.add(spawned);
  void exited.then(() => live.delete(spawned));
  return spawned;
}

/** The hard open-files limit of this process (children may raise their soft limit up to it). */
export function fdHardLimit(): number {
  const m = /Max open files\s+\d+\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? 1_048_576 : Number(m[1]);
}

/** `bash -c` prefix that raises the open-files limit as far as allowed (65,536 wanted) and execs the rest. */
export function withFdLimit(cmd: string, args: string[]): [string, string[]] {
  const n = Math.min(65_536, fdHardLimit());
  return ['bash', ['-c', `ulimit -n ${n}; exec "$@"`, 'bench', cmd, ...args]];
}

/** Run a command to completion and return its output. */
export function runCapture(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null;
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: String(err) }));
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function readStat(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces: split after the closing parenthesis
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** `pid` and all its descendants (cluster workers, nginx workers). */
export function treePids(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const f = readStat(pid);
    if (f) parent.set(pid, Number(f[1]));
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const [pid, ppid] of parent) if (ppid === out[i]) out.push(pid);
  }
  return out.filter((p) => parent.has(p));
}

/** utime+stime in µs of a process tree (children that already exited count through cutime/cstime). */
export function cpuUs(root: number): number {
  let ticks = 0;
  for (const pid of treePids(root)) {
    const f = readStat(pid);
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks * TICK_US;
}

/** Peak RSS (VmHWM) in KiB, summed over a process tree. */
export function peakRssKiB(root: number): number {
  let kib = 0;
  for (const pid of treePids(root)) {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch { /* gone */ }
  }
  return kib;
}

/** Current RSS (VmRSS) in KiB, summed over a process tree. */
export function rssKiB(root: number): number {
  let kib = 0;
  for (const pid of treePids(root)) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch { /* gone */ }
  }
  return kib;
}

export interface CpuTimes { busy: number[]; total: number[]; steal: number[] }

/** Per-CPU jiffies from /proc/stat. `busy` counts irq and softirq too: loopback network work lands there and in process stime alike. */
export function cpuTimes(): CpuTimes {
  const busy: number[] = [];
  const total: number[] = [];
  const steal: number[] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.split(/\s+/).map(Number);
    busy[Number(m[1])] = v[0]! + v[1]! + v[2]! + v[5]! + v[6]!;
    total[Number(m[1])] = v.slice(0, 8).reduce((a, b) => a + b, 0);
    steal[Number(m[1])] = v[7] ?? 0;
  }
  return { busy, total, steal };
}

/** Busy share (0..1, including irq time) of each CPU over `ms`. */
export async function cpuBusy(ms: number): Promise<number[]> {
  const read = () => readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d/.test(l)).map((l) => l.split(/\s+/).slice(1, 9).map(Number));
  const a = read();
  await sleep(ms);
  const b = read();
  return a.map((va, i) => {
    const vb = b[i]!;
    const d = vb.map((x, j) => x - va[j]!);
    const tot = d.reduce((s, x) => s + x, 0);
    const idle = d[3]! + d[4]!;
    return tot > 0 ? (tot - idle) / tot : 0;
  });
}

/** Wait until CPUs 0 and 1 are both ≤ `limit` busy; gives up after `maxMs` and says so. */
export async function waitIdle(limit: number, maxMs: number, windowMs: number): Promise<{ waitedMs: number; idle: boolean }> {
  const start = Date.now();
  for (;;) {
    const busy = await cpuBusy(windowMs);
    if ((busy[0] ?? 0) <= limit && (busy[1] ?? 0) <= limit) return { waitedMs: Date.now() - start, idle: true };
    if (Date.now() - start > maxMs) return { waitedMs: Date.now() - start, idle: false };
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function waitTcp(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, host);
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

/** Poll `GET path` (HTTP/1.1, over TLS if asked) until it answers 200; returns the last status or error. */
export async function waitHttp200(port: number, path: string, timeoutMs: number, exited?: Promise<unknown>, tls = false): Promise<string | null> {
  const end = Date.now() + timeoutMs;
  let last = 'no answer';
  let gone = false;
  void exited?.then(() => (gone = true));
  while (Date.now() < end && !gone) {
    last = await new Promise<string>((resolve) => {
      const send = tls ? httpsRequest : request;
      const req = send({ host: '127.0.0.1', port, path, agent: false, timeout: 2000, rejectUnauthorized: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? 'ok' : `HTTP ${res.statusCode}`));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => resolve(err.message));
      req.end();
    });
    if (last === 'ok') return null;
    await sleep(150);
  }
  return gone ? `process exited (${last})` : last;
}
