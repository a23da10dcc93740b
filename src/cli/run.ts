/** `ferry run`: serve every Gateway in the configuration until SIGTERM/SIGINT; SIGHUP reloads. */
import cluster from 'node:cluster';
import type { Command } from 'commander';
import { AggregatorRegistry } from 'prom-client';
import { startFerry } from '../app.ts';
import { parseBinds, parseDurationOption, parseHostPort } from './args.ts';
import { runPrimary, stateMessage } from './workers.ts';

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
    .option('--state-file <path>', 'where Rollout progress is kept across restarts', '.ferry-state/rollouts.json')
    .option('-w, --workers <n>', 'worker processes sharing the listeners (e.g. one per core); 1 = no workers', '1')
    .action(async (opts) => {
      const mode = opts.encodedSlashes;
      if (mode !== 'reject' && mode !== 'keep' && mode !== 'decode') {
        throw new Error(`--encoded-slashes: expected reject, keep or decode, got "${mode}"`);
      }
      const workers = Number(opts.workers);
      if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new Error(`--workers: expected a whole number from 1 to 256, got "${opts.workers}"`);
      const admin = opts.admin === 'off' ? null : parseHostPort(opts.admin, '--admin');
      const binds = parseBinds(opts.bind);
      const drainTimeoutMs = parseDurationOption(opts.drainTimeout, '--drain-timeout');
      if (workers > 1 && cluster.isPrimary) {
        await runPrimary({ workers, admin, drainTimeoutMs, logLevel: opts.logLevel });
        return;
      }
      const worker = cluster.isWorker;
      const ferry = await startFerry({
        configPaths: opts.config,
        binds,
        admin: worker ? null : admin,
        announce: !worker,
        onReload: worker ? (s) => process.send?.(stateMessage(s)) : undefined,
        stateFile: opts.stateFile,
        rollouts: !worker,
        accessLog: opts.accessLog,
        logLevel: opts.logLevel,
        drainTimeoutMs,
        encodedSlashes: mode,
        watch: opts.watch,
      });
      if (worker) {
        // Constructing an AggregatorRegistry is what makes prom-client answer the primary's requests.
        new AggregatorRegistry();
        AggregatorRegistry.setRegistries([ferry.registry]);
        process.send?.(stateMessage(ferry.state));
      }
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
