/** The targets of one load scenario: start, warm up, gated runs interleaved across targets with CPU accounting, medians and spread. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpuUs, cpuTimes, peakRssKiB, waitIdle, TICK_US } from './proc.ts';
import { wrk, h2load, paced, type LoadResult } from './load.ts';
import { startTarget, type Running } from './targets.ts';
import { requestPath, type LoadScenario, type TargetSpec } from './scenarios.ts';
import type { Tls } from './servers.ts';

export interface RunOptions {
  runs: number;
  seconds: number;
  warmupSeconds: number;
  /** Max tries per run when foreign CPU disturbed it. */
  tries: number;
  /** Foreign CPU allowed per run, as a share of one CPU over the run (0.5 s in a 10 s run). */
  foreignLimit: number;
  /** ...but never less than this many CPU seconds (the harness's own polling and tick rounding). */
  foreignFloorS: number;
  idleLimit: number;
  /** Give up waiting for idle CPUs after this long (the run then carries a note). */
  idleMaxMs: number;
  idleWindowMs: number;
  log: (line: string) => void;
}

export interface RunSample extends LoadResult {
  /** Proxy CPU µs per request (null for direct). */
  cpuUsPerReq: number | null;
  /** CPU µs per request of the upstream and the load generator, which share CPU 1. */
  clientSideUsPerReq: number | null;
  /** CPU seconds used by processes that are neither proxy, upstream nor load generator. */
  foreignCpuS: number;
  tries: number;
  idleWaitMs: number;
  notIdle: boolean;
}

export interface Summary { median: number; min: number; max: number }

export interface TargetResult {
  target: string;
  ok: boolean;
  error?: string;
  runs: RunSample[];
  rps?: Summary;
  p50?: Summary;
  p99?: Summary;
  cpuUsPerReq?: Summary | null;
  peakRssKiB?: number | null;
  errors?: number;
  non2xx?: number;
  notes: string[];
}

export function summarize(values: number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

/** Rounds a scenario runs: the requested number, raised to the scenario's minimum unless one run (a smoke test) was asked for. */
const roundsOf = (s: LoadScenario, runs: number) => (runs > 1 ? Math.max(runs, s.minRuns ?? 0) : runs);

const allowedForeign = (o: RunOptions, seconds: number) => Math.max(o.foreignFloorS, o.foreignLimit * seconds);

export interface Env { dir: string; upstreamPort: number; upstreamPid: number; tls: Tls }

async function load(s: LoadScenario, t: TargetSpec, r: Running, env: Env, seconds: number): Promise<LoadResult> {
  const path = requestPath(s, t);
  const scheme = (s.front === 'https' || s.front === 'h2') && !r.plain ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${r.port}${path}`;
  if (s.tool === 'wrk') return wrk({ url, connections: 64, seconds, delayMs: s.delayMs, newConnections: s.newConnections, workDir: env.dir });
  if (s.tool === 'paced') return paced({ port: r.port, path, rate: s.rate!, connections: 64, seconds });
  if (s.front === 'grpc') {
    const dataFile = join(env.dir, 'grpc-request.bin');
    const msg = Buffer.alloc(100, 0x62);
    const frame = Buffer.alloc(5);
    frame.writeUInt32BE(msg.length, 1);
    writeFileSync(dataFile, Buffer.concat([frame, msg]));
    return h2load({ url, clients: 16, streams: 8, seconds, dataFile, headers: ['content-type: application/grpc', 'te: trailers'] });
  }
  return h2load({ url, clients: 16, streams: 8, seconds });
}

async function oneRun(s: LoadScenario, t: TargetSpec, r: Running, env: Env, o: RunOptions): Promise<RunSample> {
  let last: RunSample | null = null;
  for (let attempt = 1; attempt <= o.tries; attempt++) {
    const idle = await waitIdle(o.idleLimit, o.idleMaxMs, o.idleWindowMs);
    const cpu0 = r.pid ? cpuUs(r.pid) : 0;
    const up0 = cpuUs(env.upstreamPid);
    const sys0 = cpuTimes();
    const res = await load(s, t, r, env, o.seconds);
    const sys1 = cpuTimes();
    const cpu1 = r.pid ? cpuUs(r.pid) : 0;
    const up1 = cpuUs(env.upstreamPid);
    const busyUs = sys1.busy.reduce((a, v, i) => a + v - (sys0.busy[i] ?? 0), 0) * TICK_US;
    const known = cpu1 - cpu0 + (up1 - up0) + res.loadCpuUs;
    const foreignCpuS = Math.max(0, busyUs - known) / 1e6;
    last = {
      ...res,
      cpuUsPerReq: r.pid && res.requests > 0 ? (cpu1 - cpu0) / res.requests : null,
      clientSideUsPerReq: res.requests > 0 ? (up1 - up0 + res.loadCpuUs) / res.requests : null,
      foreignCpuS,
      tries: attempt,
      idleWaitMs: idle.waitedMs,
      notIdle: !idle.idle,
    };
    if (foreignCpuS <= allowedForeign(o, res.seconds)) return last;
    o.log(`    run disturbed: ${foreignCpuS.toFixed(2)} s of foreign CPU, retrying (${attempt}/${o.tries})`);
  }
  return last!;
}

/**
 * Measures every target of a scenario with their runs interleaved: all targets are started (each in a
 * directory of its own), then round i gives each target its i-th run, the first one after that target's
 * warm-up. A slow phase of a shared VM then lands on every target instead of on whichever one it met,
 * and the ratios between rows stay fair. Never throws: a failure becomes a row with an error.
 */
export async function measureTargets(s: LoadScenario, targets: TargetSpec[], env: Env, o: RunOptions): Promise<TargetResult[]> {
  const results: TargetResult[] = targets.map((t) => ({ target: t.label, ok: false, runs: [], notes: [] }));
  const running: (Running | null)[] = [];
  try {
    for (const [i, t] of targets.entries()) {
      const dir = join(env.dir, `target-${i}`);
      mkdirSync(dir, { recursive: true });
      try {
        const r = await startTarget(t.base, {
          dir, upstreamPort: env.upstreamPort, front: s.front, tls: env.tls,
          probePath: requestPath(s, t), routes: t.routes, node: t.node, workers: t.workers,
        });
        running.push(r);
        if (r.plain) results[i]!.notes.push('plain HTTP');
      } catch (err) {
        running.push(null);
        results[i]!.error = (err as Error).message;
        o.log(`  ${t.label}: FAILED to start: ${results[i]!.error!.split('\n')[0]}`);
      }
    }
    const rounds = roundsOf(s, o.runs);
    for (let round = 0; round < rounds; round++) {
      for (const [i, t] of targets.entries()) {
        const r = running[i];
        const result = results[i]!;
        if (!r || result.error !== undefined) continue;
        try {
          if (round === 0 && o.warmupSeconds > 0) await load(s, t, r, env, o.warmupSeconds);
          const run = await oneRun(s, t, r, env, o);
          result.runs.push(run);
          o.log(`  ${t.label} run ${round + 1}/${rounds}: ${Math.round(run.rps)} req/s, p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms` +
            (run.cpuUsPerReq !== null ? `, ${run.cpuUsPerReq.toFixed(1)} µs/req` : '') +
            (run.errors || run.non2xx ? `, ${run.errors} errors, ${run.non2xx} non-2xx` : ''));
        } catch (err) {
          result.error = (err as Error).message;
          o.log(`  ${t.label}: FAILED: ${result.error.split('\n')[0]}`);
        }
      }
    }
    for (const [i, r] of running.entries()) {
      if (!r || results[i]!.error !== undefined) continue;
      results[i]!.peakRssKiB = r.pid ? peakRssKiB(r.pid) : null;
      results[i]!.ok = true;
    }
  } finally {
    for (const r of running) await r?.stop();
  }
  return results.map((r) => summarizeRuns(r, o));
}

function summarizeRuns(result: TargetResult, o: RunOptions): TargetResult {
  if (!result.runs.length) return result;
  result.rps = summarize(result.runs.map((x) => x.rps));
  result.p50 = summarize(result.runs.map((x) => x.p50));
  result.p99 = summarize(result.runs.map((x) => x.p99));
  const cpu = result.runs.map((x) => x.cpuUsPerReq).filter((x): x is number => x !== null);
  result.cpuUsPerReq = cpu.length ? summarize(cpu) : null;
  result.errors = result.runs.reduce((a, x) => a + x.errors, 0);
  result.non2xx = result.runs.reduce((a, x) => a + x.non2xx, 0);
  if (result.errors || result.non2xx) result.notes.push(`${result.errors} socket errors, ${result.non2xx} non-2xx`);
  const retries = result.runs.reduce((a, x) => a + x.tries - 1, 0);
  if (retries) result.notes.push(`${retries} run(s) retried for foreign CPU`);
  if (result.runs.some((x) => x.notIdle)) result.notes.push('CPUs never got idle before a run');
  if (result.runs.some((x) => x.foreignCpuS > allowedForeign(o, x.seconds))) result.notes.push('kept a disturbed run');
  return result;
}
