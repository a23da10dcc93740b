/**
 * Profiles Ferry under load: starts the nginx upstream (CPU 1), Ferry (`ferry` or `ferry-full`) pinned
 * to CPU 0 under `node --cpu-prof`, loads it with `wrk -t1 -c64` on CPU 1, prints the CPU µs/req of the
 * run and the top functions by self time (and by file) from the .cpuprofile.
 *
 *   node bench/profile.ts [--target ferry|ferry-full] [--seconds 10] [--top 40] [--all] [--no-prof | --alloc] [--delay-ms N] [--path /64k] [--h2c] [--keep DIR] [--node-arg FLAG]...
 *
 * `--no-prof` skips the profiler (a quick CPU µs/req reading); `--keep DIR` copies the .cpuprofile there
 * (it opens in Chrome DevTools). A profiled process is slower: compare µs/req only between runs of the same kind.
 * `--alloc` samples allocations instead (V8's sampling heap profiler over the inspector, counting objects
 * the young and old generation collections freed) and prints the bytes allocated per request by function:
 * what makes the scavenges that show in the tail latency.
 * `--delay-ms N` paces the measured run like the fixed-rate scenario (exponential gaps of mean N ms per
 * connection; 12 gives about 5,000 req/s) and reports direct's p50/p99 from the same run beside Ferry's.
 * `--h2c` loads Ferry over cleartext HTTP/2 with h2load (-c16 -m8, as the `h2c` scenario) instead of wrk.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, cpSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startUpstream, makeCert } from './lib/servers.ts';
import { startTarget, REPO } from './lib/targets.ts';
import { h2load, wrk } from './lib/load.ts';
import { cpuUs, freePort, stopAll } from './lib/proc.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'ferry' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    top: { type: 'string', default: '40' },
    'no-prof': { type: 'boolean', default: false },
    alloc: { type: 'boolean', default: false },
    /** Total time of every function, not only Ferry's own. */
    all: { type: 'boolean', default: false },
    keep: { type: 'string' },
    'delay-ms': { type: 'string' },
    /** What to ask the upstream for: `/` (100 B), `/1k` or `/64k`. */
    path: { type: 'string', default: '/' },
    'node-arg': { type: 'string', multiple: true, default: [] },
    h2c: { type: 'boolean', default: false },
  },
});

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

function shortUrl(url: string): string {
  if (url.startsWith('file://')) return relative(REPO, url.slice(7));
  return url === '' ? '(native)' : url;
}

/** Self time per function and per file, in µs, from the samples. */
function selfTimes(p: Profile): { fns: Map<string, number>; files: Map<string, number>; total: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!)!;
    const dt = p.timeDeltas[i] ?? 0;
    const f = n.callFrame;
    if (f.functionName === '(idle)') continue;
    total += dt;
    const url = shortUrl(f.url);
    const key = `${f.functionName || '(anonymous)'}  ${url}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + dt);
    const file = url.replace(/^node:internal\//, 'node:').replace(/^node_modules\/([^/]+)\/.*/, 'node_modules/$1');
    files.set(file, (files.get(file) ?? 0) + dt);
  }
  return { fns, files, total };
}

/** Total (self + callees) time of the project's own functions (src/), per function. */
function inclusiveTimes(p: Profile, all = false): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    const seen = new Set<string>();
    for (let id: number | undefined = p.samples[i]; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      const url = shortUrl(f.url);
      if (!all && !url.startsWith('src/')) continue;
      const key = `${f.functionName || '(anonymous)'}  ${url}:${f.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.set(key, (out.get(key) ?? 0) + dt);
    }
  }
  return out;
}

function printTop(title: string, m: Map<string, number>, total: number, n: number): void {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  }
}

interface HeapNode { callFrame: ProfileNode['callFrame']; selfSize: number; children: HeapNode[] }

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
async function inspector(port: number): Promise<{ send(method: string, params?: object): Promise<any>; close(): void }> {
  const deadline = Date.now() + 10_000;
  let url: string | undefined;
  while (url === undefined) {
    try {
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as { webSocketDebuggerUrl: string }[];
      url = list[0]?.webSocketDebuggerUrl;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  let id = 0;
  const waiting = new Map<number, (v: any) => void>();
  ws.onmessage = (e) => {
    const m = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (m.id === undefined) return;
    if (m.error) throw new Error(m.error.message);
    waiting.get(m.id)?.(m.result);
    waiting.delete(m.id);
  };
  return {
    send(method, params = {}) {
      const n = ++id;
      ws.send(JSON.stringify({ id: n, method, params }));
      return new Promise((resolve) => waiting.set(n, resolve));
    },
    close: () => ws.close(),
  };
}

/** Sampled bytes per function (self), from a sampling heap profile. */
function allocations(root: HeapNode): { fns: Map<string, number>; total: number } {
  const fns = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode): void => {
    if (n.selfSize > 0) {
      const f = n.callFrame;
      const url = shortUrl(f.url);
      const key = `${f.functionName || '(anonymous)'}  ${url}${f.url ? `:${f.lineNumber + 1}` : ''}`;
      fns.set(key, (fns.get(key) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    for (const c of n.children) walk(c);
  };
  walk(root);
  return { fns, total };
}

const dir = mkdtempSync(join(tmpdir(), 'ferry-profile-'));
const profDir = join(dir, 'prof');
const alloc = values.alloc;
const prof = !values['no-prof'] && !alloc;
try {
  const upstreamPort = await freePort();
  await startUpstream(dir, upstreamPort);
  const tls = await makeCert(dir);
  const inspectPort = alloc ? await freePort() : 0;
  const running = await startTarget(values.target!, {
    dir, upstreamPort, front: values.h2c ? 'h2c' : 'http', tls, probePath: '/',
    nodeArgs: [
      ...values['node-arg']!,
      ...(prof ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []),
      ...(alloc ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
    ],
  });
  const url = `http://127.0.0.1:${running.port}${values.path}`;
  const load = (seconds: number, delayMs?: number) => (values.h2c
    ? h2load({ url, clients: 16, streams: 8, seconds })
    : wrk({ url, connections: 64, seconds, delayMs, workDir: dir }));
  await load(Number(values.warmup));
  const cdp = alloc ? await inspector(inspectPort) : null;
  // A sample every 1 KiB on average; the profile scales samples back to the bytes they stand for.
  await cdp?.send('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const cpu0 = cpuUs(running.pid!);
  const delayMs = values['delay-ms'] === undefined ? undefined : Number(values['delay-ms']);
  const r = await load(Number(values.seconds), delayMs);
  const cpu = cpuUs(running.pid!) - cpu0;
  const heap = (await cdp?.send('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } } | undefined;
  cdp?.close();
  const mode = prof ? ' (profiled)' : alloc ? ' (allocations sampled)' : '';
  console.log(`${values.target}${mode}: ${Math.round(r.rps)} req/s, ${(cpu / r.requests).toFixed(1)} CPU µs/req, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors}, non-2xx ${r.non2xx}`);
  await running.stop();
  if (delayMs !== undefined) {
    const d = await wrk({ url: `http://127.0.0.1:${upstreamPort}${values.path}`, connections: 64, seconds: Number(values.seconds), delayMs, workDir: dir });
    console.log(`direct at the same pace: ${Math.round(d.rps)} req/s, p50 ${d.p50} ms, p99 ${d.p99} ms; added by ${values.target}: p50 +${(r.p50 - d.p50).toFixed(2)} ms, p99 +${(r.p99 - d.p99).toFixed(2)} ms`);
  }
  if (heap) {
    const { fns, total } = allocations(heap.profile.head);
    console.log(`\nallocated on the JS heap: ${Math.round(total / r.requests)} bytes per request (sampled), by function:`);
    for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
      console.log(`${String(Math.round(v / r.requests)).padStart(6)} B  ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
    }
  }
  if (prof) {
    await sleep(200);
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no .cpuprofile written (did Ferry exit cleanly?)');
    if (values.keep) { mkdirSync(values.keep, { recursive: true }); cpSync(join(profDir, file), join(values.keep, file)); }
    const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as Profile;
    const { fns, files, total } = selfTimes(profile);
    const top = Number(values.top);
    printTop('self time by function (share of non-idle samples, whole run including start-up):', fns, total, top);
    printTop('self time by file:', files, total, 25);
    printTop('total time (self + callees) of Ferry\'s own functions:', inclusiveTimes(profile), total, 30);
    if (values.all) printTop('total time (self + callees), every function:', inclusiveTimes(profile, true), total, 80);
  }
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
