/**
 * What mirroring costs the primary: p50/p99 latency of the primary's answers at a fixed request rate
 * with mirroring off, with a plain RequestMirror (100%), and with a Rollout mirror step that also
 * captures both answers, calls the primary a second time for noise and diffs them (100%). Same Ferry
 * build, same upstreams, same rate, in one run. Ferry is pinned to CPU 0; this script (load and
 * upstreams) to CPU 1.
 *
 * Modes alternate over several rounds and each figure is the median across rounds, so a burst of
 * noise from elsewhere on the machine hits one round, not one mode.
 *
 *   node bench/mirror-overhead.ts [--rate 500] [--seconds 10] [--warmup 2] [--rounds 3]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const RATE = Number(args.get('rate') ?? 500);
const SECONDS = Number(args.get('seconds') ?? 10);
const WARMUP = Number(args.get('warmup') ?? 2);
const ROUNDS = Number(args.get('rounds') ?? 3);
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const pin = (pid: number, cpu: number) => spawnSync('taskset', ['-cp', String(cpu), String(pid)], { stdio: 'ignore' });

const BODY = JSON.stringify({ product: { id: 1, name: 'lamp', price: 10 }, stock: 7, tags: ['home', 'light'] });

async function upstream(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'x-copy': name });
    res.end(BODY);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

const gateway = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bench, namespace: default}
spec:
  gatewayClassName: ferry
  listeners: [{name: http, protocol: HTTP, port: 80}]
`;
const service = (name: string, port: number) => `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec: {ports: [{name: http, port: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}, namespace: default, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
ports: [{name: http, port: ${port}}]
endpoints: [{addresses: [127.0.0.1]}]
`;
const route = (filters: string) => `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: catalog, namespace: default}
spec:
  parentRefs: [{name: bench}]
  rules:
    - ${filters}backendRefs: [{name: stable, port: 8080}]
`;
const MODES: Record<string, string> = {
  off: route(''),
  mirror: route(`filters: [{type: RequestMirror, requestMirror: {backendRef: {name: candidate, port: 8080}, percent: 100}}]
      `),
  'mirror+diff': route('') + `---
apiVersion: ferry.dev/v1alpha1
kind: Rollout
metadata: {name: catalog, namespace: default}
spec:
  targetRef: {group: gateway.networking.k8s.io, kind: HTTPRoute, name: catalog, rule: 0}
  stable: {name: stable, port: 8080}
  candidate: {name: candidate, port: 8080}
  analysis: {interval: 1s, window: 10s, minSamples: 1000000, diff: {maxRate: 100}}
  mirror: {noise: true}
  steps: [{mirror: {percent: 100, duration: 1h}}, {weight: 100}]
`,
};

async function startFerry(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [MAIN, 'run', '--config', dir, '--bind', 'default/bench/80=127.0.0.1:0', '--admin', 'off', '--access-log', 'off', '--state-file', join(dir, 'state.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
  pin(child.pid!, 0);
  let buf = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /"msg":"listening"/.test(buf) && /"port":(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`ferry exited ${code}: ${buf}`)));
  });
  return { child, port };
}

/** Paced load: RATE requests per second for `seconds`, returns sorted latencies in ms. */
async function load(pool: Pool, seconds: number): Promise<number[]> {
  const lat: number[] = [];
  const total = RATE * seconds;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await delay(wait);
    pending.push((async () => {
      const t0 = performance.now();
      const res = await pool.request({ path: '/products/1', method: 'GET' });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      lat.push(performance.now() - t0);
    })());
  }
  await Promise.all(pending);
  return lat.sort((a, b) => a - b);
}

const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))];

async function main(): Promise<void> {
  pin(process.pid, 1);
  const stable = await upstream('stable');
  const candidate = await upstream('candidate');
  const results = new Map<string, { n: number; p50: number[]; p99: number[] }>();
  for (let round = 0; round < ROUNDS; round++) for (const [mode, routeYaml] of Object.entries(MODES)) {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-mirror-bench-'));
    await writeFile(join(dir, 'config.yaml'), [gateway, service('stable', stable.port), service('candidate', candidate.port), routeYaml].join('---\n'));
    const ferry = await startFerry(dir);
    const pool = new Pool(`http://127.0.0.1:${ferry.port}`, { connections: 64 });
    await load(pool, WARMUP);
    const lat = await load(pool, SECONDS);
    await pool.close();
    ferry.child.kill('SIGTERM');
    await new Promise((r) => ferry.child.once('exit', r));
    await rm(dir, { recursive: true, force: true });
    const r = results.get(mode) ?? { n: 0, p50: [], p99: [] };
    r.n += lat.length;
    r.p50.push(pct(lat, 50));
    r.p99.push(pct(lat, 99));
    results.set(mode, r);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const off = results.get('off')!;
  const rows = [...results].map(([mode, r]) => {
    const p50 = median(r.p50);
    const p99 = median(r.p99);
    const d = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
    return `| ${mode} | ${r.n} | ${p50.toFixed(2)} | ${p99.toFixed(2)} | ${d(p50 - median(off.p50))} | ${d(p99 - median(off.p99))} | ${r.p99.map((x) => x.toFixed(2)).join(' / ')} |`;
  });
  stable.server.close();
  candidate.server.close();
  process.stdout.write(`Primary latency with mirroring, ${RATE} req/s for ${SECONDS} s per mode, median of ${ROUNDS} rounds (Ferry on CPU 0; load and upstreams on CPU 1)\n\n`);
  process.stdout.write('| mode | requests | p50 ms | p99 ms | p50 vs off | p99 vs off | p99 per round |\n|---|---:|---:|---:|---:|---:|---|\n');
  process.stdout.write(`${rows.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
