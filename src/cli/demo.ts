/**
 * `ferry demo`: the migration on loopback, no cluster needed. Starts a "VM" copy and a "Kubernetes"
 * copy of productcatalog, serves examples/productcatalog through Ferry, and moves traffic
 * 100/0 → 80/20 → 50/50 → 0/100 by rewriting the route's weights on disk while a client runs,
 * printing where each request went. Ferry picks each edit up through its file watcher.
 */
import type { Command } from 'commander';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, writeFile, cp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { startFerry } from '../app.ts';
import { parseHostPort } from './args.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/productcatalog/', import.meta.url));
const PHASES: ReadonlyArray<[number, number]> = [[100, 0], [80, 20], [50, 50], [0, 100]];

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('move productcatalog from a VM copy to a Kubernetes copy on loopback, step by step')
    .option('--listen <host:port>', 'where the demo gateway listens', '127.0.0.1:8080')
    .option('--admin <host:port>', 'admin API address', '127.0.0.1:9901')
    .option('--phase-seconds <n>', 'seconds per weight step', '3')
    .option('--serve', 'keep serving after the last step (Ctrl-C to stop)')
    .action(async (opts) => {
      await runDemo({
        listen: parseHostPort(opts.listen, '--listen'),
        admin: parseHostPort(opts.admin, '--admin'),
        phaseMs: Math.max(1, Number(opts.phaseSeconds)) * 1000,
        serve: Boolean(opts.serve),
      });
    });
}

interface DemoOptions { listen: { host: string; port: number }; admin: { host: string; port: number }; phaseMs: number; serve: boolean }

async function runDemo(o: DemoOptions): Promise<void> {
  const vm = await startCopy('vm');
  const k8s = await startCopy('kubernetes');
  const dir = await mkdtemp(join(tmpdir(), 'ferry-demo-'));
  await cp(EXAMPLE, dir, { recursive: true });
  const services = join(dir, 'services.yaml');
  const text = await readFile(services, 'utf8');
  await writeFile(services, text.replace('port: 9101', `port: ${vm.port}`).replace('port: 9102', `port: ${k8s.port}`));
  const route = join(dir, 'route.yaml');
  const routeTemplate = await readFile(route, 'utf8');
  const writeWeights = (a: number, b: number) =>
    writeFile(route, routeTemplate
      .replace(/(name: productcatalog-vm\s+port: \d+\s+weight:) \d+/, `$1 ${a}`)
      .replace(/(name: productcatalog-k8s\s+port: \d+\s+weight:) \d+/, `$1 ${b}`));

  const ferry = await startFerry({
    configPaths: [dir],
    binds: new Map([['default/edge/80', o.listen]]),
    admin: o.admin,
    accessLog: 'off',
    logLevel: 'warn',
    drainTimeoutMs: 5000,
    encodedSlashes: 'reject',
    watch: true,
    stateFile: null,
  });
  const gw = ferry.sockets()[0];
  const url = `http://${gw.host.includes(':') ? `[${gw.host}]` : gw.host}:${gw.port}`;
  out(`Ferry demo: productcatalog has a VM copy (127.0.0.1:${vm.port}) and a Kubernetes copy (127.0.0.1:${k8s.port}).`);
  out(`Gateway ${url}   admin http://${ferry.admin?.host}:${ferry.admin?.port}/config   config ${dir}`);
  out('');
  out('weights vm/k8s   requests   to vm          to k8s         errors   p99');

  const client = new Pool(url, { connections: 8 });
  let failed = 0;
  let misrouted = 0;
  for (const [a, b] of PHASES) {
    await writeWeights(a, b);
    await waitForWeights(client, a, b);
    const r = await drive(client, o.phaseMs);
    failed += r.errors;
    // A copy at weight 0 must get nothing at all; anything else means the split is wrong.
    if ((a === 0 && r.vm > 0) || (b === 0 && r.k8s > 0)) misrouted += a === 0 ? r.vm : r.k8s;
    const pct = (n: number) => `${String(n).padStart(5)} (${((100 * n) / Math.max(1, r.total)).toFixed(1).padStart(5)}%)`;
    out(`${`${a}/${b}`.padEnd(16)}${String(r.total).padStart(8)}   ${pct(r.vm)}   ${pct(r.k8s)}   ${String(r.errors).padStart(6)}   ${r.p99.toFixed(2)} ms`);
  }
  out('');
  if (misrouted > 0) out(`${misrouted} request(s) reached a copy whose weight was 0.`);
  out(failed === 0 ? 'Migration complete: every request answered, none failed.' : `Migration complete with ${failed} failed request(s).`);
  if (o.serve) {
    out(`Still serving on ${url}; edit ${route} to move traffic again. Ctrl-C to stop.`);
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
  await client.close();
  await ferry.stop();
  await Promise.all([closeServer(vm.server), closeServer(k8s.server)]);
  await rm(dir, { recursive: true, force: true });
  process.exitCode = failed === 0 && misrouted === 0 ? 0 : 1;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function startCopy(copy: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ service: 'productcatalog', copy, path: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

function closeServer(s: Server): Promise<void> {
  s.closeAllConnections();
  return new Promise((resolve) => s.close(() => resolve()));
}

async function ask(client: Pool): Promise<string> {
  const res = await client.request({ path: '/products', method: 'GET' });
  const body = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  return (JSON.parse(body) as { copy: string }).copy;
}

/** Waits until the new weights are live: a 0-weight copy must stop answering. */
async function waitForWeights(client: Pool, vmWeight: number, k8sWeight: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add(await ask(client).catch(() => 'error'));
    const ok = (vmWeight > 0 || !seen.has('vm')) && (k8sWeight > 0 || !seen.has('kubernetes'));
    if (ok) return;
    await delay(50);
  }
}

async function drive(client: Pool, ms: number) {
  const end = Date.now() + ms;
  const r = { total: 0, vm: 0, k8s: 0, errors: 0, p99: 0 };
  const lat: number[] = [];
  const worker = async () => {
    while (Date.now() < end) {
      const t = performance.now();
      try {
        const copy = await ask(client);
        if (copy === 'vm') r.vm++;
        else r.k8s++;
      } catch {
        r.errors++;
      }
      lat.push(performance.now() - t);
      r.total++;
      await delay(2);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  lat.sort((a, b) => a - b);
  r.p99 = lat[Math.floor(lat.length * 0.99)] ?? 0;
  return r;
}
