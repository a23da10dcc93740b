/** Scenarios that are not a throughput table: idle connections, the Node 20 precheck, control-plane scale. */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCapture, spawnPinned, rssKiB, peakRssKiB, withFdLimit } from './proc.ts';
import { startTarget, REPO } from './targets.ts';
import { buildForNode20 } from './node20-build.ts';
import type { Env, RunOptions } from './measure.ts';
import type { ScenarioResult } from './report.ts';

const SYSTEM_NODE = '/usr/bin/node';

/**
 * Null when Ferry can run on the system Node 20; otherwise why not. Node 20 has no type stripping, so
 * this transpiles src/ into `workDir` (bench/lib/node20-build.ts; the ferry@node target reuses it)
 * and checks that the copy loads: `node main.js --help` imports the whole CLI and proxy.
 */
export async function nodeVersionsPrecheck(workDir: string): Promise<string | null> {
  const v = await runCapture(SYSTEM_NODE, ['--version']);
  if (v.code !== 0) return `${SYSTEM_NODE} is not available`;
  const version = v.stdout.trim();
  if (!version.startsWith('v20.')) return `${SYSTEM_NODE} is ${version}, not Node 20`;
  let main: string;
  try {
    main = await buildForNode20(workDir);
  } catch (err) {
    return `Ferry cannot run on Node ${version}: ${(err as Error).message}; only the pinned Node 24 is measured.`;
  }
  const help = await runCapture(SYSTEM_NODE, [main, '--help'], { timeoutMs: 20_000 });
  if (help.code !== 0) {
    const lines = help.stderr.trim().split('\n');
    const why = (lines.find((l) => /Error/.test(l)) ?? lines.at(-1) ?? '').trim() || `exit code ${help.code}`;
    return `Ferry's transpiled copy does not start on Node ${version} (\`${SYSTEM_NODE} ${main} --help\`: ${why}); only the pinned Node 24 is measured.`;
  }
  return null;
}

/** 10,000 idle keep-alive client connections (one request each) → the proxy's RSS. */
export async function idleConnections(env: Env, filter: string[] | null, o: RunOptions, count = 10_000): Promise<ScenarioResult> {
  const result: ScenarioResult = {
    id: 'idle-conns',
    title: `${count.toLocaleString('en-US')} idle keep-alive client connections (one 100 B request each), memory`,
    rows: [],
    lines: ['| target | connections held | RSS before MiB | RSS with connections MiB | KiB per connection | peak RSS MiB | notes |', '|---|---:|---:|---:|---:|---:|---|'],
  };
  const targets = ['ferry', 'nginx', 'haproxy'].filter((t) => !filter || filter.includes(t));
  for (const name of targets) {
    let row = `| ${name} | – | – | – | – | – | `;
    try {
      const r = await startTarget(name, { dir: env.dir, upstreamPort: env.upstreamPort, front: 'http', tls: env.tls, probePath: '/' });
      try {
        await sleep(500);
        const before = rssKiB(r.pid!);
        const client = spawnPinned(1, ...withFdLimit(process.execPath, [join(REPO, 'bench/idle-conns.ts'), '--port', String(r.port), '--count', String(count)]));
        const end = Date.now() + 120_000;
        while (!/READY/.test(client.output()) && Date.now() < end && client.child.exitCode === null) await sleep(200);
        const ready = /READY (\d+) (\d+)/.exec(client.output());
        if (!ready) {
          await client.stop();
          throw new Error(`client did not finish opening connections: ${client.output().slice(-300)}`);
        }
        await sleep(3000); // let the proxy settle; then see whether it kept them
        const after = rssKiB(r.pid!);
        const peak = peakRssKiB(r.pid!);
        const opens = [...client.output().matchAll(/OPEN (\d+)/g)];
        const held = Number(opens.at(-1)?.[1] ?? ready[1]);
        await client.stop();
        const per = held > 0 ? (after - before) / held : NaN;
        row = `| ${name} | ${held.toLocaleString('en-US')} | ${(before / 1024).toFixed(1)} | ${(after / 1024).toFixed(1)} | ${per.toFixed(1)} | ${(peak / 1024).toFixed(1)} | ${ready[2] !== '0' ? `${ready[2]} failed to open` : ''} |`;
        o.log(`  ${name}: ${held} connections, RSS ${(before / 1024).toFixed(1)} → ${(after / 1024).toFixed(1)} MiB`);
      } finally {
        await r.stop();
      }
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0]!.replace(/\|/g, '/');
      row += `**failed:** ${msg} |`;
      o.log(`  ${name}: FAILED: ${msg}`);
    }
    result.lines!.push(row);
  }
  return result;
}

/** Compile time and heap for 10,000 routes / 10,000 backends / 100,000 endpoints, in a child with --expose-gc. */
export async function controlPlane(o: RunOptions): Promise<ScenarioResult> {
  const base = { id: 'control-plane', title: 'Control plane: 10,000 routes, 10,000 backends, 100,000 endpoints', rows: [] };
  const r = await runCapture(process.execPath, ['--expose-gc', join(REPO, 'bench/control-plane.ts')], { timeoutMs: 600_000 });
  if (r.code !== 0) {
    const why = `control-plane measurement failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`;
    o.log(`  ${why}`);
    return { ...base, skipped: why };
  }
  const lines = r.stdout.trim().split('\n');
  for (const l of lines) o.log(`  ${l}`);
  return { ...base, lines };
}
