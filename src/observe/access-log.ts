/**
 * The access log: one JSON line per finished request (RequestRecord from the request channel),
 * written by pino through an asynchronous destination (sonic-boom) so a slow disk or pipe never
 * blocks the event loop for long.
 */
import pino from 'pino';
import { requestChannel, type RequestRecord } from '../snapshot/index.ts';

export interface AccessLogOptions {
  /** `stdout`, a file path (appended to, directories created), or a stream. */
  destination: 'stdout' | string | NodeJS.WritableStream;
  /** Called when the destination fails (cannot open the file, broken pipe); default a process warning. */
  onError?: (err: Error) => void;
}

export interface AccessLog {
  /** Starts logging published requests; the returned function stops it. */
  subscribe(): () => void;
  /** Resolves once every line logged so far has been written. */
  flush(): Promise<void>;
}

/** The fields of one access log line besides `time` and `msg`, in the order they are written. */
export interface AccessLogEntry {
  requestId: string;
  client: string;
  method: string;
  host: string;
  path: string;
  protocol: string;
  status: number;
  grpcStatus?: string;
  gateway: string;
  listener: string;
  route: string | null;
  rule: string | null;
  backend: string | null;
  endpoint: string | null;
  durationMs: number;
  upstreamMs: number | null;
  bytesIn: number;
  bytesOut: number;
  attempts: number;
  error?: string;
}

const ms = (v: number): number => Math.round(v * 1000) / 1000;

/** Maps a record to its log fields (undefined optional fields are left out of the line). */
export function accessLogEntry(r: RequestRecord): AccessLogEntry {
  return {
    requestId: r.requestId,
    client: r.clientAddress,
    method: r.method,
    host: r.host,
    path: r.path,
    protocol: r.protocol,
    status: r.status,
    grpcStatus: r.grpcStatus,
    gateway: r.gateway,
    listener: r.listener,
    route: r.route,
    rule: r.rule,
    backend: r.backend,
    endpoint: r.endpoint,
    durationMs: ms(r.durationMs),
    upstreamMs: r.upstreamMs === null ? null : ms(r.upstreamMs),
    bytesIn: r.bytesIn,
    bytesOut: r.bytesOut,
    attempts: r.attempts,
    error: r.error,
  };
}

interface Destination {
  stream: pino.DestinationStream;
  /** Resolves once everything written so far has reached the destination. */
  flush(): Promise<void>;
}

function openDestination(opts: AccessLogOptions): Destination {
  const { destination } = opts;
  if (destination !== 'stdout' && typeof destination !== 'string') {
    const stream = destination as NodeJS.WritableStream & { writableNeedDrain?: boolean };
    return {
      stream: stream as pino.DestinationStream,
      flush: () => (stream.writableNeedDrain ? new Promise((resolve) => stream.once('drain', () => resolve())) : Promise.resolve()),
    };
  }
  const boom = destination === 'stdout'
    ? pino.destination({ dest: 1, sync: false })
    : pino.destination({ dest: destination, sync: false, mkdir: true, append: true });
  const onError = opts.onError ?? ((err: Error) => process.emitWarning(`access log: ${err.message}`));
  boom.on('error', onError);
  // sonic-boom opens files asynchronously and must not be flushed before it is ready.
  const ready = new Promise<void>((resolve) => {
    boom.once('ready', resolve);
    boom.once('error', () => resolve());
  });
  return {
    stream: boom,
    async flush() {
      await ready;
      // An empty write queues behind pending ones; sonic-boom emits 'drain' once its queue is empty.
      await new Promise<void>((resolve) => {
        const done = () => {
          boom.off('drain', done);
          boom.off('error', done);
          resolve();
        };
        boom.once('drain', done);
        boom.once('error', done);
        boom.write('');
      });
    },
  };
}

export function createAccessLog(opts: AccessLogOptions): AccessLog {
  const destination = openDestination(opts);
  const logger = pino(
    {
      base: null,
      // The timestamp rides in the level slot so the line starts with it and carries no level.
      timestamp: false,
      formatters: { level: () => ({ time: new Date().toISOString() }) },
    },
    destination.stream,
  );
  const onRequest = (message: unknown): void => {
    logger.info(accessLogEntry(message as RequestRecord), 'request');
  };
  let subscribed = false;
  return {
    subscribe() {
      if (subscribed) throw new Error('the access log is already subscribed');
      subscribed = true;
      requestChannel.subscribe(onRequest);
      return () => {
        if (!subscribed) return;
        subscribed = false;
        requestChannel.unsubscribe(onRequest);
      };
    },
    flush() {
      return destination.flush();
    },
  };
}
