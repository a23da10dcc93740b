/**
 * `ferry rollout status|promote|pause|resume|abort|retry [NAME]` and `ferry diff [NAME]`: talk to a
 * running Ferry's admin API. NAME is `namespace/name` or `name` (namespace `default`).
 */
import type { Command } from 'commander';
import { request } from 'undici';
import { parseHostPort } from './args.ts';

const ACTIONS = ['promote', 'pause', 'resume', 'abort', 'retry'] as const;

function keyOf(name: string): string {
  const key = name.includes('/') ? name : `default/${name}`;
  if (!/^[a-z0-9][-a-z0-9.]*\/[a-z0-9][-a-z0-9.]*$/.test(key)) throw new Error(`expected NAME or NAMESPACE/NAME, got "${name}"`);
  return key;
}

async function call(admin: string, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: unknown }> {
  const { host, port } = parseHostPort(admin, '--admin');
  const h = host.includes(':') ? `[${host}]` : host;
  let res;
  try {
    res = await request(`http://${h}:${port}${path}`, { method });
  } catch (err) {
    throw new Error(`cannot reach the admin API at ${admin}: ${(err as Error).message}`);
  }
  return { status: res.statusCode, body: await res.body.json() };
}

interface StatusView {
  rollout?: string; phase?: string; step?: number; totalSteps?: number; stepLabel?: string | null; message?: string;
  failures?: number; failureLimit?: number;
  override?: { weights?: { stable: number; candidate: number }; mirror?: { percent: number } | null };
  lastAnalysis?: { verdict?: string; checks?: { name: string; verdict: string; message: string }[] } | null;
  history?: { at: number | string; from: string; to: string; step: number; reason: string }[];
}

function describe(s: StatusView): string {
  const lines = [`${s.rollout ?? '?'}: ${s.phase ?? '?'}, step ${(s.step ?? 0) + 1}/${s.totalSteps ?? '?'} (${s.stepLabel ?? ''})`];
  const w = s.override?.weights;
  if (w) lines.push(`  traffic: stable ${w.stable}% / candidate ${w.candidate}%${s.override?.mirror ? `, mirroring ${s.override.mirror.percent}%` : ''}`);
  if (s.message) lines.push(`  ${s.message}`);
  if (s.failures !== undefined) lines.push(`  failed checks: ${s.failures} (limit ${s.failureLimit ?? 0})`);
  for (const c of s.lastAnalysis?.checks ?? []) lines.push(`  ${c.verdict.padEnd(12)} ${c.name}: ${c.message}`);
  for (const h of (s.history ?? []).slice(-5)) {
    const at = typeof h.at === 'number' ? new Date(h.at).toISOString() : h.at;
    lines.push(`  ${at} ${h.from} → ${h.to} (step ${h.step + 1}): ${h.reason}`);
  }
  return lines.join('\n');
}

export function registerRollout(program: Command): void {
  const rollout = program.command('rollout').description('show and control progressive rollouts on a running Ferry');
  rollout
    .command('status [name]')
    .description('show one Rollout, or all')
    .option('--admin <host:port>', 'admin API of the running Ferry', '127.0.0.1:9901')
    .option('--json', 'print the raw JSON')
    .action(async (name: string | undefined, opts) => {
      const r = name ? await call(opts.admin, 'GET', `/rollouts/${keyOf(name)}`) : await call(opts.admin, 'GET', '/rollouts');
      if (r.status !== 200) throw new Error((r.body as { error?: string }).error ?? `admin API answered ${r.status}`);
      if (opts.json) return void process.stdout.write(`${JSON.stringify(r.body, null, 2)}\n`);
      const list = name ? [r.body as StatusView] : ((r.body as { rollouts: StatusView[] }).rollouts ?? []);
      process.stdout.write(list.length === 0 ? 'no rollouts\n' : `${list.map(describe).join('\n\n')}\n`);
    });
  for (const action of ACTIONS) {
    rollout
      .command(`${action} <name>`)
      .description(`${action} a Rollout`)
      .option('--admin <host:port>', 'admin API of the running Ferry', '127.0.0.1:9901')
      .action(async (name: string, opts) => {
        const r = await call(opts.admin, 'POST', `/rollouts/${keyOf(name)}/${action}`);
        const body = r.body as { ok?: boolean; error?: string; status?: StatusView };
        if (r.status !== 200 || !body.ok) throw new Error(body.error ?? `admin API answered ${r.status}`);
        process.stdout.write(`${action}: ok\n${body.status ? `${describe(body.status)}\n` : ''}`);
      });
  }
  program
    .command('diff [name]')
    .description('show response differences found by mirroring (all rollouts, or one)')
    .option('--admin <host:port>', 'admin API of the running Ferry', '127.0.0.1:9901')
    .action(async (name: string | undefined, opts) => {
      const r = await call(opts.admin, 'GET', name ? `/diffs/${keyOf(name)}` : '/diffs');
      if (r.status !== 200) throw new Error((r.body as { error?: string }).error ?? `admin API answered ${r.status}`);
      process.stdout.write(`${JSON.stringify(r.body, null, 2)}\n`);
    });
}
