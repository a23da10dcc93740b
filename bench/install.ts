/**
 * Bench prerequisites: finds nginx, haproxy, wrk, h2load and a C compiler, installs the missing ones
 * with apt-get, stops their system services, and builds the paced load generator (bench/tools/paced-load.c).
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCapture } from './lib/proc.ts';
import { PACED_LOAD_BIN } from './lib/load.ts';

const PACED_LOAD_SRC = join(import.meta.dirname, 'tools', 'paced-load.c');

const TOOLS: { bin: string; pkg: string }[] = [
  { bin: 'nginx', pkg: 'nginx' },
  { bin: 'haproxy', pkg: 'haproxy' },
  { bin: 'wrk', pkg: 'wrk' },
  { bin: 'h2load', pkg: 'nghttp2-client' },
  { bin: 'taskset', pkg: 'util-linux' },
  { bin: 'openssl', pkg: 'openssl' },
  { bin: 'cc', pkg: 'gcc' },
];

async function has(bin: string): Promise<boolean> {
  return (await runCapture('bash', ['-c', `command -v ${bin}`])).code === 0;
}

/** Install what is missing; returns a list of problems (empty when everything is there). */
export async function ensureTools(log: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<string[]> {
  const missing: typeof TOOLS = [];
  for (const t of TOOLS) if (!(await has(t.bin))) missing.push(t);
  if (missing.length) {
    const pkgs = [...new Set(missing.map((t) => t.pkg))];
    log(`installing ${pkgs.join(', ')} with apt-get`);
    const update = await runCapture('apt-get', ['update', '-q'], { timeoutMs: 300_000 });
    if (update.code !== 0) return [`apt-get update failed: ${update.stderr.trim().slice(-300)}`];
    const inst = await runCapture('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', ...pkgs], { timeoutMs: 600_000 });
    if (inst.code !== 0) return [`apt-get install failed: ${inst.stderr.trim().slice(-300)}`];
  }
  // apt starts the packaged services; the bench runs its own instances with its own configs
  for (const svc of ['nginx', 'haproxy']) {
    const status = await runCapture('service', [svc, 'status']);
    if (status.code === 0) {
      log(`stopping the ${svc} system service`);
      await runCapture('service', [svc, 'stop']);
    }
  }
  const problems: string[] = [];
  for (const t of TOOLS) if (!(await has(t.bin))) problems.push(`${t.bin} (package ${t.pkg}) is not available`);
  if (!problems.length) {
    const built = await buildPacedLoad(log);
    if (built !== null) problems.push(built);
  }
  return problems;
}

const mtimeMs = (file: string): number => {
  try { return statSync(file).mtimeMs; } catch { return -1; }
};

/** Compiles paced-load when its binary is missing or older than its source; returns a problem or null. */
async function buildPacedLoad(log: (s: string) => void): Promise<string | null> {
  if (mtimeMs(PACED_LOAD_BIN) >= mtimeMs(PACED_LOAD_SRC)) return null;
  log('building bench/tools/paced-load.c');
  mkdirSync(join(PACED_LOAD_BIN, '..'), { recursive: true });
  const cc = await runCapture('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', PACED_LOAD_BIN, PACED_LOAD_SRC, '-lm']);
  return cc.code === 0 ? null : `building paced-load failed: ${cc.stderr.trim().slice(-400)}`;
}

if (import.meta.main) {
  const problems = await ensureTools();
  if (problems.length) {
    process.stderr.write(problems.join('\n') + '\n');
    process.exit(1);
  }
  process.stdout.write('bench tools ready\n');
}
