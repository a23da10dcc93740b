/** Results output: machine description, one markdown table per scenario with ratios and spread, and the JSON twin. */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { runCapture } from './proc.ts';
import { summarize, type RunSample, type TargetResult } from './measure.ts';
import { parseTargetSpec, type LoadScenario } from './scenarios.ts';

export interface Machine {
  date: string;
  nproc: number;
  cpuModel: string;
  kernel: string;
  node: string;
  nginx: string;
  haproxy: string;
  wrk: string;
  h2load: string;
}

const firstLine = (s: string) => s.trim().split('\n')[0] ?? '';

export async function describeMachine(): Promise<Machine> {
  const nginx = await runCapture('nginx', ['-v']);
  const haproxy = await runCapture('haproxy', ['-v']);
  const w = await runCapture('wrk', ['-v']);
  const h2 = await runCapture('h2load', ['--version']);
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: process.version,
    nginx: firstLine(nginx.stderr + nginx.stdout).replace('nginx version: ', ''),
    haproxy: firstLine(haproxy.stdout).replace(/ - https?:\S+/, ''),
    wrk: firstLine(w.stdout + w.stderr).replace(/ \[.*$/, ''),
    h2load: firstLine(h2.stdout),
  };
}

export interface ScenarioResult {
  id: string;
  title: string;
  note?: string;
  rows: TargetResult[];
  /** Free-form lines for scenarios that are not a load table (or were skipped). */
  lines?: string[];
  skipped?: string;
}

export interface Report {
  machine: Machine;
  options: { runs: number; seconds: number; warmupSeconds: number; quick: boolean };
  scenarios: ScenarioResult[];
}

const fmt = (n: number | undefined | null, digits = 0) =>
  n === undefined || n === null || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A reference row (nginx, HAProxy, direct) and whether it ran interleaved with this scenario's rows. */
interface Ref { row: TargetResult; sameRounds: boolean }

function ref(report: Report, s: ScenarioResult, scenario: LoadScenario | undefined, target: string): Ref | undefined {
  const own = s.rows.find((r) => r.target === target && r.ok);
  if (own) return { row: own, sameRounds: true };
  const other = scenario?.refScenario ? report.scenarios.find((x) => x.id === scenario.refScenario) : undefined;
  const row = other?.rows.find((r) => r.target === target && r.ok);
  return row ? { row, sameRounds: false } : undefined;
}

/**
 * Compares a row with a reference: with runs from the same rounds (run i of every target is round i),
 * the median of the per-round comparisons, so a slow phase of the machine that met both runs of a round
 * cancels out; otherwise (a reference from another scenario) the comparison of the two medians.
 */
function paired(r: TargetResult, base: Ref | undefined, value: (x: RunSample) => number | null, compare: (a: number, b: number) => number): number | undefined {
  if (!base || !r.runs.length || !base.row.runs.length) return undefined;
  if (base.sameRounds) {
    const n = Math.min(r.runs.length, base.row.runs.length);
    const per: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = value(r.runs[i]!);
      const b = value(base.row.runs[i]!);
      const c = a === null || b === null ? NaN : compare(a, b);
      if (Number.isFinite(c)) per.push(c); // a ratio over a zero reference has no meaning
    }
    return per.length ? summarize(per).median : undefined;
  }
  const a = r.runs.map(value).filter((v): v is number => v !== null);
  const b = base.row.runs.map(value).filter((v): v is number => v !== null);
  const c = a.length && b.length ? compare(summarize(a).median, summarize(b).median) : NaN;
  return Number.isFinite(c) ? c : undefined;
}

const ratioOf = (a: number, b: number) => a / b;
const minus = (a: number, b: number) => a - b;

function loadTable(report: Report, s: ScenarioResult, scenario: LoadScenario | undefined): string[] {
  const nginx = ref(report, s, scenario, 'nginx');
  const haproxy = ref(report, s, scenario, 'haproxy');
  const direct = ref(report, s, scenario, 'direct');
  const ratio = (r: TargetResult, base?: Ref) => fmt(paired(r, base, (x) => x.rps, ratioOf), 2);
  const fixed = scenario?.delayMs !== undefined || scenario?.rate !== undefined;
  const head = ['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'peak RSS MiB', '÷ nginx', '÷ HAProxy', '÷ direct'];
  if (fixed) head.push('+p50 ms vs direct', '+p99 ms vs direct');
  head.push('CPU/req ÷ nginx', 'spread req/s (min–max)', 'spread p99 ms', 'notes');
  const out = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 || h === 'notes' || h.startsWith('spread') ? '---' : '---:')).join('|')}|`];
  for (const r of s.rows) {
    if (!r.ok && !r.runs.length) {
      out.push(`| ${r.target} | ${head.slice(1).map((h) => (h === 'notes' ? `**failed:** ${(r.error ?? '').split('\n')[0]!.replace(/\|/g, '/')}` : '–')).join(' | ')} |`);
      continue;
    }
    const cells = [
      r.target, fmt(r.rps?.median), fmt(r.p50?.median, 2), fmt(r.p99?.median, 2), fmt(r.cpuUsPerReq?.median, 1),
      r.peakRssKiB ? fmt(r.peakRssKiB / 1024, 1) : '–', ratio(r, nginx), ratio(r, haproxy), ratio(r, direct),
    ];
    if (fixed) {
      cells.push(fmt(paired(r, direct, (x) => x.p50, minus), 2), fmt(paired(r, direct, (x) => x.p99, minus), 2));
    }
    cells.push(
      fmt(paired(r, nginx, (x) => x.cpuUsPerReq, ratioOf), 2),
      r.rps ? `${fmt(r.rps.min)}–${fmt(r.rps.max)} (${fmt(((r.rps.max - r.rps.min) / r.rps.median) * 100, 0)} %)` : '–',
      r.p99 ? `${fmt(r.p99.min, 2)}–${fmt(r.p99.max, 2)}` : '–',
      [...r.notes, ...(r.error ? [`error: ${r.error.split('\n')[0]}`] : [])].join('; ').replace(/\|/g, '/'),
    );
    out.push(`| ${cells.join(' | ')} |`);
  }
  if (scenario?.refScenario) out.push('', `Ratios use the nginx, HAProxy and direct rows of \`${scenario.refScenario}\` when this scenario has none; those ran in other rounds, so these ratios divide the two medians.`);
  return out;
}

/** For scenarios with multi-worker rows: each proxy's gain from its second worker beside the most the layout allows (the paragraph says how). */
function scalingTable(s: ScenarioResult, scenario: LoadScenario | undefined): string[] {
  const specs = (scenario?.targets ?? []).map(parseTargetSpec).filter((t) => (t.workers ?? 1) > 1);
  const rows: string[] = [];
  for (const t of specs) {
    const many = s.rows.find((r) => r.target === t.label && r.ok);
    const one = s.rows.find((r) => r.target === t.base && r.ok);
    if (!many || !one) continue;
    const gain = paired(many, { row: one, sameRounds: true }, (x) => x.rps, ratioOf);
    const measured = one.runs.flatMap((x) => (x.cpuUsPerReq !== null && x.clientSideUsPerReq !== null ? [{ p: x.cpuUsPerReq, c: x.clientSideUsPerReq }] : []));
    const median = (v: number[]) => (v.length ? summarize(v).median : undefined);
    const ceiling = median(measured.map(({ p, c }) => (2 * p) / (p + c)));
    rows.push(`| ${t.label} ÷ ${t.base} | ${fmt(gain, 2)} | ${fmt(ceiling, 2)} | ${fmt(median(measured.map((x) => x.p)), 1)} | ${fmt(median(measured.map((x) => x.c)), 1)} |`);
  }
  if (!rows.length) return [];
  return [
    'Gain from the second worker, per round, and the ceiling this layout allows: with one worker saturating CPU 0 at p µs of CPU per request and the upstream and wrk spending c µs per request on CPU 1, both CPUs fully used carry at most 2p ÷ (p + c) times the one-worker rate.',
    '',
    '| rows | two ÷ one | ceiling 2p ÷ (p + c) | p: proxy CPU µs/req, one worker | c: upstream + wrk CPU µs/req |',
    '|---|---:|---:|---:|---:|',
    ...rows,
  ];
}

export function toMarkdown(report: Report, scenarios: LoadScenario[]): string {
  const m = report.machine;
  const o = report.options;
  const lines = [
    '# Ferry benchmark results',
    '',
    `${m.date} · ${m.nproc} CPUs (${m.cpuModel}) · kernel ${m.kernel} · Node ${m.node} · nginx ${m.nginx} · ${m.haproxy} · ${m.wrk} · ${m.h2load}`,
    '',
    `${o.runs} run(s) × ${o.seconds} s per target after a ${o.warmupSeconds} s warm-up, interleaved (round i runs every target of a scenario once); ` +
      'values are medians and spread is min–max over the runs; ratios and the added latency vs direct are medians of the per-round comparisons.' +
      (o.quick ? ' **Quick mode: smoke test only, not for comparison.**' : ''),
    'Proxy on CPU 0 (1 worker); upstream nginx and the load generator on CPU 1. See docs/benchmarks.md for the method.',
    '',
  ];
  for (const s of report.scenarios) {
    lines.push(`## ${s.id}: ${s.title}`, '');
    if (s.note) lines.push(s.note, '');
    const scenario = scenarios.find((x) => x.id === s.id);
    const rounds = Math.max(0, ...s.rows.map((r) => r.runs.length));
    if (rounds > o.runs) lines.push(`${rounds} rounds in this scenario: its p99 figures are the noisiest of the run.`, '');
    if (s.skipped) lines.push(`Skipped: ${s.skipped}`, '');
    if (s.rows.length) lines.push(...loadTable(report, s, scenario), '');
    const scaling = scalingTable(s, scenario);
    if (scaling.length) lines.push(...scaling, '');
    if (s.lines?.length) lines.push(...s.lines, '');
  }
  return lines.join('\n');
}
