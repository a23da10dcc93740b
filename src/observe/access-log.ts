/**
 * The access log: one JSON line per finished request (RequestRecord from the request channel),
 * written through an asynchronous destination (pino's sonic-boom) so a slow disk or pipe never
 * blocks the event loop for long.
 *
 * HOT PATH: a line is built by a fixed serializer (the same bytes pino wrote for these fields, in
 * the same order) and lines are handed to the destination in batches: at most FLUSH_MS after the
 * first line of a batch, or as soon as FLUSH_BYTES are waiting (Envoy's file access log flushes every
 * second or 64 KiB). A file write costs about as much as proxying a small request, so one write per
 * event-loop turn was a write for every two or three requests under load. flush() writes at once.
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

/** Longest a line waits before it is written, and how many waiting bytes trigger a write at once. */
const FLUSH_MS = 100;
const FLUSH_BYTES = 64 * 1024;

const q = (v: string): string => JSON.stringify(v);
const qn = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));
const n = (v: number): string => (Number.isFinite(v) ? String(v) : 'null');

let lastTimeMs = -1;
let lastTime = '';
/** The ISO timestamp, formatted once per millisecond. */
function isoNow(): string {
  const now = Date.now();
  if (now !== lastTimeMs) { lastTimeMs = now; lastTime = new Date(now).toISOString(); }
  return lastTime;
}

/** One access log line: `{"time":...,<AccessLogEntry fields>,"msg":"request"}` and a newline. */
// HOT PATH
export function accessLogLine(r: RequestRecord): string {
  return '{"time":"' + isoNow()
    + '","requestId":' + q(r.requestId)
    + ',"client":' + q(r.clientAddress)
    + ',"method":' + q(r.method)
    + ',"host":' + q(r.host)
    + ',"path":' + q(r.path)
    + ',"protocol":' + q(r.protocol)
    + ',"status":' + n(r.status)
    + (r.grpcStatus === undefined ? '' : ',"grpcStatus":' + q(r.grpcStatus))
    + ',"gateway":' + q(r.gateway)
    + ',"listener":' + q(r.listener)
    + ',"route":' + qn(r.route)
    + ',"rule":' + qn(r.rule)
    + ',"backend":' + qn(r.backend)
    + ',"endpoint":' + qn(r.endpoint)
    + ',"durationMs":' + n(ms(r.durationMs))
    + ',"upstreamMs":' + (r.upstreamMs === null ? 'null' : n(ms(r.upstreamMs)))
    + ',"bytesIn":' + n(r.bytesIn)
    + ',"bytesOut":' + n(r.bytesOut)
    + ',"attempts":' + n(r.attempts)
    + (r.error === undefined ? '' : ',"error":' + q(r.error))
    + ',"msg":"request"}\n';
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
  const stream = destination.stream;
  // Lines not written yet, written together by writePending().
  let pending = '';
  let timer: NodeJS.Timeout | null = null;
  const writePending = (): void => {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    if (pending.length === 0) return;
    const chunk = pending;
    pending = '';
    stream.write(chunk);
  };
  // HOT PATH
  const onRequest = (message: unknown): void => {
    pending += accessLogLine(message as RequestRecord);
    if (pending.length >= FLUSH_BYTES) writePending();
    else if (timer === null) timer = setTimeout(writePending, FLUSH_MS).unref();
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
      writePending();
      return destination.flush();
    },
  };
}
