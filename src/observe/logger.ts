/**
 * The process logger: JSON lines to stderr (stdout carries the access log by default), level names
 * instead of numbers, ISO timestamps. Writes are synchronous: process logs are few, and the last
 * lines before a crash must not be lost.
 */
import pino from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`; default `info`. */
  level?: string;
  /** Where to write; default stderr. */
  destination?: NodeJS.WritableStream;
}

export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  if (!LOG_LEVELS.includes(level)) throw new Error(`unknown log level "${level}" (expected one of ${LOG_LEVELS.join(', ')})`);
  return pino(
    {
      level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    (opts.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 2, sync: true }),
  );
}
