/** `ferry run`: serve every Gateway in the configuration until SIGTERM/SIGINT; SIGHUP reloads. */
import type { Command } from 'commander';
import { startFerry } from '../app.ts';
import { parseBinds, parseDurationOption, parseHostPort } from './args.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('serve the Gateways in the configuration, reloading when the files change')
    .requiredOption('-c, --config <path>', 'YAML file or directory (repeatable)', collect, [])
    .option('-b, --bind <ns/gateway/port=host:port>', 'bind a listener port to another address (repeatable)', collect, [])
    .option('--admin <host:port>', 'admin API address, or "off"', '127.0.0.1:9901')
    .option('--access-log <dest>', 'access log: stdout, off, or a file path', 'stdout')
    .option('--log-level <level>', 'process log level (debug, info, warn, error)', 'info')
    .option('--drain-timeout <duration>', 'grace period for in-flight requests on SIGTERM', '10s')
    .option('--encoded-slashes <mode>', 'paths with %2F or %5C: reject (400), keep, or decode', 'reject')
    .option('--no-watch', 'do not reload when the configuration files change')
    .action(async (opts) => {
      const mode = opts.encodedSlashes;
      if (mode !== 'reject' && mode !== 'keep' && mode !== 'decode') {
        throw new Error(`--encoded-slashes: expected reject, keep or decode, got "${mode}"`);
      }
      const ferry = await startFerry({
        configPaths: opts.config,
        binds: parseBinds(opts.bind),
        admin: opts.admin === 'off' ? null : parseHostPort(opts.admin, '--admin'),
        accessLog: opts.accessLog,
        logLevel: opts.logLevel,
        drainTimeoutMs: parseDurationOption(opts.drainTimeout, '--drain-timeout'),
        encodedSlashes: mode,
        watch: opts.watch,
      });
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        ferry.stop().then(
          () => process.exit(0),
          (err) => {
            process.stderr.write(`ferry: shutdown failed: ${(err as Error).message}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
      process.on('SIGHUP', () => void ferry.reload());
    });
}
