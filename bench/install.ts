/** Bench prerequisites: finds nginx, haproxy, wrk and h2load, installs the missing ones with apt-get, stops their system services. */
import { runCapture } from './lib/proc.ts';

const TOOLS: { bin: string; pkg: string }[] = [
  { bin: 'nginx', pkg: 'nginx' },
  { bin: 'haproxy', pkg: 'haproxy' },
  { bin: 'wrk', pkg: 'wrk' },
  { bin: 'h2load', pkg: 'nghttp2-client' },
  { bin: 'taskset', pkg: 'util-linux' },
  { bin: 'openssl', pkg: 'openssl' },
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
  return problems;
}

if (import.meta.main) {
  const problems = await ensureTools();
  if (problems.length) {
    process.stderr.write(problems.join('\n') + '\n');
    process.exit(1);
  }
  process.stdout.write('bench tools ready\n');
}
