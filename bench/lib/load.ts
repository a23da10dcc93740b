/**
 * Load generators, pinned to CPU 1: wrk (HTTP/1.1 at full speed, percentiles from a done() hook),
 * h2load (HTTP/2, h2c, gRPC) and paced-load (HTTP/1.1 at a fixed rate, open loop, Poisson arrivals).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnPinned, cpuUs } from './proc.ts';

export const LOADGEN_CPU = 1;

/** Where bench/install.ts builds bench/tools/paced-load.c. */
export const PACED_LOAD_BIN = join(import.meta.dirname, '..', '.build', 'paced-load');

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  /** milliseconds; for h2load p50 is the mean and p99 the max (it has no percentiles); for paced-load from each request's scheduled start. */
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** CPU µs the load generator itself used (for the foreign-CPU estimate). */
  loadCpuUs: number;
  percentiles: 'exact' | 'mean/max';
}

export interface WrkOptions {
  url: string;
  connections: number;
  seconds: number;
  /** Pace each connection: milliseconds between requests (fixed-rate scenario). */
  delayMs?: number;
  /** Send `Connection: close`: a new connection for every request. */
  newConnections?: boolean;
  workDir: string;
}

const DONE_HOOK = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

function wrkScript(workDir: string, delayMs?: number): string {
  const file = join(workDir, `wrk-${delayMs ?? 0}.lua`);
  // Exponentially distributed gaps (mean delayMs): connections do not fall into lockstep, so the
  // proxy sees Poisson-like arrivals at the set rate instead of 64 requests at once every delayMs.
  const delay = delayMs ? `math.randomseed(os.time())\ndelay = function() return math.floor(-math.log(1 - math.random()) * ${delayMs} + 0.5) end\n` : '';
  writeFileSync(file, delay + DONE_HOOK);
  return file;
}

async function runPinned(cmd: string, args: string[], timeoutMs: number): Promise<{ out: string; code: number | null; cpu: number }> {
  const p = spawnPinned(LOADGEN_CPU, cmd, args);
  let cpu = 0;
  // sample the generator's CPU just before it exits: poll, since /proc vanishes after reaping
  const poll = setInterval(() => { try { cpu = Math.max(cpu, cpuUs(p.pid)); } catch { /* gone */ } }, 100);
  const killer = setTimeout(() => void p.stop(), timeoutMs);
  const code = await p.exited;
  clearInterval(poll);
  clearTimeout(killer);
  return { out: p.output(), code, cpu };
}

export async function wrk(o: WrkOptions): Promise<LoadResult> {
  const script = wrkScript(o.workDir, o.delayMs);
  const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--timeout', '5s', '-s', script];
  if (o.newConnections) args.push('-H', 'Connection: close');
  args.push(o.url);
  const { out, code, cpu } = await runPinned('wrk', args, (o.seconds + 30) * 1000);
  const m = /WRKJSON (\{.*\})/.exec(out);
  if (!m) throw new Error(`wrk failed (exit ${code}): ${out.trim().slice(-400)}`);
  const j = JSON.parse(m[1]!) as Record<string, number>;
  const seconds = j.duration_us! / 1e6;
  return {
    requests: j.requests!,
    seconds,
    rps: j.requests! / seconds,
    p50: j.p50! / 1000,
    p99: j.p99! / 1000,
    errors: j.connect! + j.read! + j.write! + j.timeout!,
    non2xx: j.status!,
    loadCpuUs: cpu,
    percentiles: 'exact',
  };
}

export interface PacedOptions {
  port: number;
  path: string;
  /** Requests per second, started at Poisson arrival times whatever the responses do. */
  rate: number;
  connections: number;
  seconds: number;
}

export async function paced(o: PacedOptions): Promise<LoadResult> {
  const args = ['-p', String(o.port), '-u', o.path, '-r', String(o.rate), '-c', String(o.connections), '-d', String(o.seconds)];
  const { out, code, cpu } = await runPinned(PACED_LOAD_BIN, args, (o.seconds + 30) * 1000);
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`paced-load failed (exit ${code}): ${out.trim().slice(-400)}`);
  const j = JSON.parse(line) as { requests: number; seconds: number; errors: number; non2xx: number; dropped: number; fromScheduled: { p50: number; p99: number } };
  return {
    requests: j.requests,
    seconds: j.seconds,
    rps: j.requests / j.seconds,
    p50: j.fromScheduled.p50,
    p99: j.fromScheduled.p99,
    errors: j.errors + j.dropped,
    non2xx: j.non2xx,
    loadCpuUs: cpu,
    percentiles: 'exact',
  };
}

export interface H2loadOptions {
  url: string;
  clients: number;
  streams: number;
  seconds: number;
  headers?: string[];
  /** File to POST as the body of every request (gRPC). */
  dataFile?: string;
}

function toMs(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

export async function h2load(o: H2loadOptions): Promise<LoadResult> {
  const args = ['-t1', `-c${o.clients}`, `-m${o.streams}`, `-D${o.seconds}`];
  for (const h of o.headers ?? []) args.push('-H', h);
  if (o.dataFile) args.push('-d', o.dataFile);
  args.push(o.url);
  const { out, code, cpu } = await runPinned('h2load', args, (o.seconds + 30) * 1000);
  const fin = /finished in ([\d.]+)s, ([\d.]+) req\/s/.exec(out);
  const req = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const t = /time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(out);
  if (!fin || !req || !t) throw new Error(`h2load failed (exit ${code}): ${out.trim().slice(-400)}`);
  const done = Number(req[2]);
  if (done === 0) throw new Error(`h2load completed no request: ${out.trim().slice(-400)}`);
  const non2xx = codes ? Number(codes[2]) + Number(codes[3]) + Number(codes[4]) : 0;
  return {
    requests: Number(req[3]),
    seconds: Number(fin[1]),
    rps: Number(req[3]) / Number(fin[1]),
    p50: toMs(t[5]!, t[6]!),
    p99: toMs(t[3]!, t[4]!),
    errors: Number(req[4]) + Number(req[5]) + Number(req[6]),
    non2xx,
    loadCpuUs: cpu,
    percentiles: 'mean/max',
  };
}
