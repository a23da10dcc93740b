/** The bench targets: how to start each proxy (or none, for direct) in front of the upstream, pinned to CPU 0. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnPinned, freePort, waitHttp200, waitTcp, withFdLimit, type Spawned } from './proc.ts';
import { startNginxProxy, startHaproxy, PROXY_CPU, proxyCpus, type Front, type Tls } from './servers.ts';
import { writeFerryConfig } from './ferry-config.ts';
import { FERRY_NODE_FLAGS } from '../../src/cli/node-flags.ts';
import { buildForNode20, canStripTypes } from './node20-build.ts';

export const REPO = resolve(import.meta.dirname, '../..');

export const ALL_TARGETS = ['direct', 'nginx', 'haproxy', 'ferry', 'ferry-full', 'node-floor', 'fastify-http-proxy', 'http-proxy'] as const;

export interface TargetContext {
  dir: string;
  upstreamPort: number;
  front: Front;
  tls: Tls;
  /** Path the readiness probe asks for. */
  probePath: string;
  /** Ferry: number of routes in the table (0 = one catch-all). */
  routes?: number;
  /** Ferry: Node binary to run it with (default: this one). */
  node?: string;
  /** Ferry: extra Node options (e.g. `--cpu-prof`), placed before the script. */
  nodeArgs?: string[];
  /** Worker processes (Ferry's `--workers`, nginx's `worker_processes`) or threads (HAProxy's `nbthread`); more than one runs on CPUs 0 and 1. */
  workers?: number;
}

export interface Running {
  port: number;
  /** Root pid of the proxy (its CPU and memory are measured); null for direct. */
  pid: number | null;
  /** The target speaks plain HTTP even though the scenario front is TLS (direct). */
  plain: boolean;
  stop(): Promise<void>;
}

const usesTls = (front: Front) => front === 'https' || front === 'h2';

/** Ferry's CLI entry for `node`: the TypeScript source, or a transpiled copy when that Node has no type stripping (Node 20). */
async function ferryEntry(node: string, workDir: string): Promise<string> {
  if (node === process.execPath || (await canStripTypes(node))) return 'src/cli/main.ts';
  return buildForNode20(workDir);
}

async function startFerry(name: string, ctx: TargetContext): Promise<Running> {
  const full = name === 'ferry-full';
  const configDir = join(ctx.dir, `${name}-config`);
  const tls = usesTls(ctx.front) ? { cert: readFileSync(ctx.tls.cert, 'utf8'), key: readFileSync(ctx.tls.key, 'utf8') } : undefined;
  writeFerryConfig(configDir, { upstreamPort: ctx.upstreamPort, full, routes: ctx.routes, tls, grpc: ctx.front === 'grpc' });
  const port = await freePort();
  const admin = await freePort();
  const accessLog = full ? join(ctx.dir, 'ferry-access.log') : 'off';
  const listenerPort = tls ? 443 : 80;
  const node = ctx.node ?? process.execPath;
  const entry = await ferryEntry(node, ctx.dir);
  const args = [
    ...FERRY_NODE_FLAGS, ...(ctx.nodeArgs ?? []),
    entry, 'run', '--config', configDir,
    '--bind', `default/bench/${listenerPort}=127.0.0.1:${port}`,
    ...(tls ? ['--bind', `default/bench/80=127.0.0.1:${await freePort()}`] : []),
    '--admin', `127.0.0.1:${admin}`, '--access-log', accessLog,
    ...(ctx.workers && ctx.workers > 1 ? ['--workers', String(ctx.workers)] : []),
  ];
  const p = spawnPinned(proxyCpus(ctx.workers), ...withFdLimit(node, args), { cwd: REPO });
  const timeoutMs = 30_000 + (ctx.routes ?? 0) * 10;
  const end = Date.now() + timeoutMs;
  while (!p.output().includes('"msg":"listening"') && Date.now() < end && p.child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const fail = async (why: string): Promise<never> => {
    await p.stop();
    const lines = p.output().trim().split('\n');
    const cause = lines.find((l) => /Error|"level":(50|60)|error/.test(l)) ?? lines.at(-1) ?? '';
    throw new Error(`${name} did not start: ${why}${cause ? `: ${cause.trim().slice(0, 300)}` : ''}\n${lines.slice(-8).join('\n')}`);
  };
  if (p.child.exitCode !== null) await fail(`exited with code ${p.child.exitCode}`);
  if (!p.output().includes('"msg":"listening"')) await fail(`no "listening" log line within ${timeoutMs / 1000}s`);
  if (ctx.front === 'grpc' || ctx.front === 'h2' || ctx.front === 'h2c') {
    if (!(await waitTcp(port, 10_000))) await fail('port does not accept connections');
  } else {
    const err = await waitHttp200(port, ctx.probePath, 15_000, p.exited, !!tls);
    if (err) await fail(`GET ${ctx.probePath} → ${err}`);
  }
  return { port, pid: p.pid, plain: false, stop: p.stop };
}

async function startPeer(name: string, ctx: TargetContext): Promise<Running> {
  if (ctx.front !== 'http' && ctx.front !== 'https') throw new Error(`${name} is an HTTP/1.1 proxy: not run for ${ctx.front}`);
  const port = await freePort();
  const args = [join(REPO, 'bench/peers', `${name}.ts`), '--port', String(port), '--upstream', String(ctx.upstreamPort)];
  if (ctx.front === 'https') args.push('--cert', ctx.tls.cert, '--key', ctx.tls.key);
  const p = spawnPinned(PROXY_CPU, ...withFdLimit(process.execPath, args), { cwd: REPO });
  const err = await waitHttp200(port, ctx.probePath, 15_000, p.exited, ctx.front === 'https');
  if (err) {
    await p.stop();
    throw new Error(`${name} did not start: ${err}\n${p.output().trim().slice(-400)}`);
  }
  return { port, pid: p.pid, plain: false, stop: p.stop };
}

async function native(start: () => Promise<Spawned>, port: number): Promise<Running> {
  const p = await start();
  return { port, pid: p.pid, plain: false, stop: p.stop };
}

/** Start `name` for the scenario described by `ctx`. Throws with a readable message when it cannot. */
export async function startTarget(name: string, ctx: TargetContext): Promise<Running> {
  if (name === 'direct') return { port: ctx.upstreamPort, pid: null, plain: ctx.front === 'https', stop: async () => {} };
  if (name === 'nginx') {
    const port = await freePort();
    return native(() => startNginxProxy(ctx.dir, port, ctx.upstreamPort, ctx.front, ctx.tls, ctx.workers), port);
  }
  if (name === 'haproxy') {
    const port = await freePort();
    return native(() => startHaproxy(ctx.dir, port, ctx.upstreamPort, ctx.front, ctx.tls, ctx.workers), port);
  }
  if (name.startsWith('ferry')) return startFerry(name, ctx);
  if (name === 'node-floor' || name === 'fastify-http-proxy' || name === 'http-proxy') return startPeer(name, ctx);
  throw new Error(`unknown target "${name}"`);
}
