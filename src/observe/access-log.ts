/**
 * The access log: one JSON line per finished request (RequestRecord from the request channel),
 * written through an asynchronous destination (pino's sonic-boom) so a slow disk or pipe never
 * blocks the event loop for long.
 *
 * HOT PATH: a line is built by a fixed serializer (the same bytes pino wrote for these fields, in
 * the same order; plain ASCII values are quoted without JSON.stringify, repeated ones are quoted once),
 * encoded straight into a batch buffer, and handed to the destination in batches: at most FLUSH_MS
 * after the first line of a batch, or as soon as FLUSH_BYTES are waiting (Envoy's file access log flushes every
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
/** Room for a full batch plus the longest line that still fits beside it. */
const BATCH_CAPACITY = FLUSH_BYTES + 16 * 1024;
const EMPTY = Buffer.alloc(0);

/** True when JSON writes `v` as it is between quotes: printable ASCII without `"` or `\\`. */
function plainAscii(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** JSON string literal of `v`: quotes around plain ASCII, JSON.stringify for anything else. */
const q = (v: string): string => (plainAscii(v) ? '"' + v + '"' : JSON.stringify(v));

/**
 * A quoting function that remembers its last value: gateway, listener, route, rule, backend and
 * endpoint repeat from one request to the next, and the same string object compares at once.
 */
function lastQuoted(): (v: string | null) => string {
  let lastIn: string | null = null;
  let lastOut = 'null';
  return (v) => {
    if (v === lastIn) return lastOut;
    lastIn = v;
    lastOut = v === null ? 'null' : q(v);
    return lastOut;
  };
}

const n = (v: number): string => (Number.isFinite(v) ? String(v) : 'null');

/** `.001` ... `.999` without trailing zeros, index 0 the empty string. */
const FRACTIONS = Array.from({ length: 1000 }, (_, i) => (i === 0 ? '' : '.' + String(i).padStart(3, '0').replace(/0+$/, '')));

/**
 * Milliseconds rounded to microseconds, as JSON writes Math.round(v * 1000) / 1000, without
 * formatting a double: the integer part and a fraction from the table.
 */
function msText(v: number): string {
  const us = Math.round(v * 1000);
  if (!(us >= 0 && us < 1e15)) return n(ms(v));
  const whole = Math.floor(us / 1000);
  return String(whole) + FRACTIONS[us - whole * 1000];
}

let lastTimeMs = -1;
let lastTime = '';
/** `{"time":"<ISO timestamp>","requestId":`, built once per millisecond. */
function linePrefix(): string {
  const now = Date.now();
  if (now !== lastTimeMs) { lastTimeMs = now; lastTime = '{"time":"' + new Date(now).toISOString() + '","requestId":'; }
  return lastTime;
}

const qClient = lastQuoted(), qMethod = lastQuoted(), qHost = lastQuoted(), qProtocol = lastQuoted();
const qGateway = lastQuoted(), qListener = lastQuoted(), qRoute = lastQuoted(), qRule = lastQuoted();
const qBackend = lastQuoted(), qEndpoint = lastQuoted();

/** One access log line: `{"time":...,<AccessLogEntry fields>,"msg":"request"}` and a newline. */
// HOT PATH
export function accessLogLine(r: RequestRecord): string {
  return linePrefix() + q(r.requestId)
    + ',"client":' + qClient(r.clientAddress)
    + ',"method":' + qMethod(r.method)
    + ',"host":' + qHost(r.host)
    + ',"path":' + q(r.path)
    + ',"protocol":' + qProtocol(r.protocol)
    + ',"status":' + n(r.status)
    + (r.grpcStatus === undefined ? '' : ',"grpcStatus":' + q(r.grpcStatus))
    + ',"gateway":' + qGateway(r.gateway)
    + ',"listener":' + qListener(r.listener)
    + ',"route":' + qRoute(r.route)
    + ',"rule":' + qRule(r.rule)
    + ',"backend":' + qBackend(r.backend)
    + ',"endpoint":' + qEndpoint(r.endpoint)
    + ',"durationMs":' + msText(r.durationMs)
    + ',"upstreamMs":' + (r.upstreamMs === null ? 'null' : msText(r.upstreamMs))
    + ',"bytesIn":' + n(r.bytesIn)
    + ',"bytesOut":' + n(r.bytesOut)
    + ',"attempts":' + n(r.attempts)
    + (r.error === undefined ? '' : ',"error":' + q(r.error))
    + ',"msg":"request"}\n';
}

interface Destination {
  /** Takes encoded lines (sonic-boom in buffer mode, or the stream given). */
  stream: { write(chunk: Buffer): unknown };
  /** Resolves once everything written so far has reached the destination. */
  flush(): Promise<void>;
}

function openDestination(opts: AccessLogOptions): Destination {
  const { destination } = opts;
  if (destination !== 'stdout' && typeof destination !== 'string') {
    const stream = destination as NodeJS.WritableStream & { writableNeedDrain?: boolean };
    return {
      stream,
      flush: () => (stream.writableNeedDrain ? new Promise((resolve) => stream.once('drain', () => resolve())) : Promise.resolve()),
    };
  }
  const boom = destination === 'stdout'
    ? pino.destination({ dest: 1, sync: false, contentMode: 'buffer' })
    : pino.destination({ dest: destination, sync: false, mkdir: true, append: true, contentMode: 'buffer' });
  const onError = opts.onError ?? ((err: Error) => process.emitWarning(`access log: ${err.message}`));
  boom.on('error', onError);
  // sonic-boom opens files asynchronously and must not be flushed before it is ready.
  const ready = new Promise<void>((resolve) => {
    boom.once('ready', resolve);
    boom.once('error', () => resolve());
  });
  // In buffer mode sonic-boom takes Buffers, which pino's type does not say.
  const sink = boom as unknown as Destination['stream'];
  return {
    stream: sink,
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
        sink.write(EMPTY);
      });
    },
  };
}

export function createAccessLog(opts: AccessLogOptions): AccessLog {
  const destination = openDestination(opts);
  const stream = destination.stream;
  // Lines not written yet, encoded into `batch` and written together by writePending().
  let batch = Buffer.allocUnsafe(BATCH_CAPACITY);
  let used = 0;
  let timer: NodeJS.Timeout | null = null;
  const writePending = (): void => {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    if (used === 0) return;
    const chunk = batch.subarray(0, used);
    batch = Buffer.allocUnsafe(BATCH_CAPACITY);
    used = 0;
    stream.write(chunk);
  };
  // HOT PATH
  const onRequest = (message: unknown): void => {
    const line = accessLogLine(message as RequestRecord);
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    if (used + line.length * 3 > BATCH_CAPACITY) {
      writePending();
      if (line.length * 3 > BATCH_CAPACITY) { stream.write(Buffer.from(line)); return; }
    }
    used += batch.write(line, used, 'utf8');
    if (used >= FLUSH_BYTES) writePending();
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
