/** `npm run bench`: option parsing and the scenario loop; writes bench/results/latest.{md,json}. */
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTools } from './install.ts';
import { freePort, spawnPinned, waitTcp, stopAll, type Spawned } from './lib/proc.ts';
import { makeCert, startUpstream, UPSTREAM_CPU } from './lib/servers.ts';
import { holdCpusAwake, type CpuLatencyHold } from './lib/cpu-latency.ts';
import { LOAD_SCENARIOS, ALL_SCENARIO_IDS, parseTargetSpec, type LoadScenario } from './lib/scenarios.ts';
import { measureTargets, type Env, type RunOptions } from './lib/measure.ts';
import { describeMachine, toMarkdown, type Report, type ScenarioResult } from './lib/report.ts';
import { REPO, ALL_TARGETS } from './lib/targets.ts';
import { nodeVersionsPrecheck, idleConnections, controlPlane } from './lib/extra.ts';

const HELP = `usage: npm run bench -- [options]
  --scenarios a,b   scenarios to run (default: all): ${ALL_SCENARIO_IDS.join(', ')}
  --targets x,y     targets to run where a scenario has them (default: all): ${ALL_TARGETS.join(', ')}
  --runs N          measured runs per target (default 3; the fixed-rate scenarios run at least 5 when N > 1)
  --duration S      seconds per run (default 10)
  --warmup S        discarded warm-up seconds per target (default 3)
  --quick           1 run × 3 s with a 1 s warm-up: a smoke test, not a measurement
  --out DIR         results directory (default bench/results)
`;

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string' },
    targets: { type: 'string' },
    runs: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const list = (v: string | undefined) => (v ? v.split(',').map((x) => x.trim()).filter(Boolean) : null);
const scenarioIds = list(values.scenarios) ?? ALL_SCENARIO_IDS;
for (const id of scenarioIds) if (!ALL_SCENARIO_IDS.includes(id)) throw new Error(`unknown scenario "${id}"; known: ${ALL_SCENARIO_IDS.join(', ')}`);
const targetFilter = list(values.targets);
for (const t of targetFilter ?? []) {
  if (!(ALL_TARGETS as readonly string[]).includes(t)) throw new Error(`unknown target "${t}"; known: ${ALL_TARGETS.join(', ')}`);
}
const quick = values.quick;
const log = (line: string) => process.stdout.write(line + '\n');
const opts: RunOptions = {
  runs: Number(values.runs ?? (quick ? 1 : 3)),
  seconds: Number(values.duration ?? (quick ? 3 : 10)),
  warmupSeconds: Number(values.warmup ?? (quick ? 1 : 3)),
  tries: quick ? 2 : 5,
  foreignLimit: 0.05,
  foreignFloorS: 0.5,
  idleLimit: 0.1,
  idleMaxMs: quick ? 10_000 : 60_000,
  idleWindowMs: quick ? 500 : 1000,
  log,
};
const outDir = values.out ?? join(REPO, 'bench/results');

const problems = await ensureTools(log);
if (problems.length) {
  process.stderr.write(`bench: missing tools:\n${problems.join('\n')}\n`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
const children: Spawned[] = [];
const cleanup = async () => {
  for (const c of children.splice(0)) await c.stop();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void cleanup().then(() => process.exit(130)));

const report: Report = {
  machine: await describeMachine(),
  options: { runs: opts.runs, seconds: opts.seconds, warmupSeconds: opts.warmupSeconds, quick },
  scenarios: [],
};
const save = () => {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(outDir, 'latest.md'), toMarkdown(report, LOAD_SCENARIOS));
};

const tls = await makeCert(dir);
const upstreamPort = await freePort();
const upstream = await startUpstream(dir, upstreamPort);
children.push(upstream);
const env: Env = { dir, upstreamPort, upstreamPid: upstream.pid, tls };

/** gRPC scenarios use a Node gRPC server as the upstream instead of nginx. */
async function grpcEnv(): Promise<Env> {
  const port = await freePort();
  const p = spawnPinned(UPSTREAM_CPU, process.execPath, [join(REPO, 'bench/peers/grpc-server.ts'), '--port', String(port)], { cwd: REPO });
  children.push(p);
  if (!(await waitTcp(port, 10_000))) throw new Error(`gRPC upstream did not start: ${p.output()}`);
  return { ...env, upstreamPort: port, upstreamPid: p.pid };
}

const wanted = (spec: string) => !targetFilter || targetFilter.includes(parseTargetSpec(spec).base) || targetFilter.includes(spec);

async function runLoadScenario(s: LoadScenario): Promise<ScenarioResult> {
  const result: ScenarioResult = { id: s.id, title: s.title, note: s.note, rows: [] };
  if (s.id === 'node-versions') {
    const skip = await nodeVersionsPrecheck(env.dir);
    if (skip) {
      log(`  skipped: ${skip}`);
      return { ...result, skipped: skip };
    }
  }
  const targets = s.targets.filter(wanted);
  if (!targets.length) return { ...result, skipped: 'no selected target runs in this scenario' };
  let scenarioEnv = env;
  if (s.front === 'grpc') {
    try {
      scenarioEnv = await grpcEnv();
    } catch (err) {
      return { ...result, skipped: (err as Error).message };
    }
  }
  let hold: CpuLatencyHold | null = null;
  if (s.awakeCpus) {
    try {
      hold = holdCpusAwake();
    } catch (err) {
      log(`  skipped: ${(err as Error).message}`);
      return { ...result, skipped: (err as Error).message };
    }
  }
  try {
    result.rows.push(...await measureTargets(s, targets.map(parseTargetSpec), scenarioEnv, opts));
  } finally {
    hold?.release();
  }
  return result;
}

try {
  for (const id of scenarioIds) {
    log(`== ${id}`);
    const s = LOAD_SCENARIOS.find((x) => x.id === id);
    let result: ScenarioResult;
    if (s) result = await runLoadScenario(s);
    else if (id === 'idle-conns') result = await idleConnections(env, targetFilter, opts);
    else result = await controlPlane(opts);
    report.scenarios.push(result);
    save();
  }
} finally {
  await cleanup();
}
save();
log(`\nwrote ${join(outDir, 'latest.md')} and latest.json`);
