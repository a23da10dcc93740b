/**
 * `ferry validate`: check configuration offline. Prints every error and warning as
 * `file:line:column: Kind ns/name: field: message` and exits 1 when there is any error.
 */
import type { Command } from 'commander';
import { formatConfigError } from '../lib/index.ts';
import { loadConfigPaths } from '../resources/index.ts';
import { compile } from '../compile/index.ts';
import { parseBinds } from './args.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check configuration offline; exits non-zero listing every error')
    .requiredOption('-c, --config <path>', 'YAML file or directory (repeatable)', collect, [])
    .option('-b, --bind <ns/gateway/port=host:port>', 'as for run (checks bind conflicts)', collect, [])
    .option('-q, --quiet', 'print errors only, no summary')
    .action(async (opts) => {
      const load = await loadConfigPaths(opts.config);
      const { snapshot, report } = compile({ resources: load.resources, binds: parseBinds(opts.bind) });
      const all = [...load.errors, ...report.errors];
      for (const e of all) process.stdout.write(`${formatConfigError(e)}\n`);
      const errors = all.filter((e) => e.severity === 'error').length;
      if (!opts.quiet) {
        const listeners = snapshot.sockets.reduce((n, s) => n + s.listeners.length, 0);
        process.stdout.write(
          `${load.files.length} file(s), ${load.resources.length} resource(s), ${listeners} listener(s), ` +
            `${Object.keys(snapshot.rules).length} rule(s): ${errors} error(s), ${all.length - errors} warning(s)\n`,
        );
      }
      process.exitCode = errors > 0 ? 1 : 0;
    });
}
