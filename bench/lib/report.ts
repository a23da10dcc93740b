/** Results output: machine description, one markdown table per scenario with ratios and spread, and the JSON twin. */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { runCapture } from './proc.ts';
import type { TargetResult } from './measure.ts';
import type { LoadScenario } from './scenarios.ts';

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

function ref(report: Report, s: ScenarioResult, scenario: LoadScenario | undefined, target: string): TargetResult | undefined {
  const own = s.rows.find((r) => r.target === target && r.ok);
  if (own) return own;
  const other = scenario?.refScenario ? report.scenarios.find((x) => x.id === scenario.refScenario) : undefined;
  return other?.rows.find((r) => r.target === target && r.ok);
}

function loadTable(report: Report, s: ScenarioResult, scenario: LoadScenario | undefined): string[] {
  const nginx = ref(report, s, scenario, 'nginx');
  const haproxy = ref(report, s, scenario, 'haproxy');
  const direct = ref(report, s, scenario, 'direct');
  const ratio = (r: TargetResult, base?: TargetResult) => (r.rps && base?.rps ? fmt(r.rps.median / base.rps.median, 2) : '–');
  const fixed = scenario?.delayMs !== undefined;
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
      cells.push(direct && r.p50 ? fmt(r.p50.median - direct.p50!.median, 2) : '–', direct && r.p99 ? fmt(r.p99.median - direct.p99!.median, 2) : '–');
    }
    cells.push(
      r.cpuUsPerReq && nginx?.cpuUsPerReq ? fmt(r.cpuUsPerReq.median / nginx.cpuUsPerReq.median, 2) : '–',
      r.rps ? `${fmt(r.rps.min)}–${fmt(r.rps.max)} (${fmt(((r.rps.max - r.rps.min) / r.rps.median) * 100, 0)} %)` : '–',
      r.p99 ? `${fmt(r.p99.min, 2)}–${fmt(r.p99.max, 2)}` : '–',
      [...r.notes, ...(r.error ? [`error: ${r.error.split('\n')[0]}`] : [])].join('; ').replace(/\|/g, '/'),
    );
    out.push(`| ${cells.join(' | ')} |`);
  }
  if (scenario?.refScenario) out.push('', `Ratios use the nginx, HAProxy and direct rows of \`${scenario.refScenario}\` when this scenario has none.`);
  return out;
}

export function toMarkdown(report: Report, scenarios: LoadScenario[]): string {
  const m = report.machine;
  const o = report.options;
  const lines = [
    '# Ferry benchmark results',
    '',
    `${m.date} · ${m.nproc} CPUs (${m.cpuModel}) · kernel ${m.kernel} · Node ${m.node} · nginx ${m.nginx} · ${m.haproxy} · ${m.wrk} · ${m.h2load}`,
    '',
    `${o.runs} run(s) × ${o.seconds} s per target after a ${o.warmupSeconds} s warm-up; medians, spread is min–max over the runs.` +
      (o.quick ? ' **Quick mode: smoke test only, not for comparison.**' : ''),
    'Proxy on CPU 0 (1 worker); upstream nginx and the load generator on CPU 1. See docs/benchmarks.md for the method.',
    '',
  ];
  for (const s of report.scenarios) {
    lines.push(`## ${s.id}: ${s.title}`, '');
    if (s.note) lines.push(s.note, '');
    if (s.skipped) lines.push(`Skipped: ${s.skipped}`, '');
    if (s.rows.length) lines.push(...loadTable(report, s, scenarios.find((x) => x.id === s.id)), '');
    if (s.lines?.length) lines.push(...s.lines, '');
  }
  return lines.join('\n');
}
