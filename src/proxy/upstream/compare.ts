/**
 * Response capture for mirror comparison (RequestMirror with `compare`). A ResponseCapture records one
 * answer as it streams by — status, upstream headers as a flat lower-case record, the body up to a
 * byte limit (then only `truncated` is noted), the time it took, or why no answer came — without
 * holding up the stream it watches. A Comparison waits for the primary's, the mirror's and (for noise
 * cancellation) a second primary answer, then publishes one MirrorSample on `mirrorChannel`.
 *
 * Memory is bounded: captures exist only for requests actually mirrored with `compare` while someone
 * subscribes to `mirrorChannel`, and each keeps at most its limit of body bytes.
 */
import { mirrorChannel, type CapturedResponse, type MirrorSample } from '../../snapshot/index.ts';
import type { Clock } from '../../lib/index.ts';

type Headers = Record<string, string | string[] | undefined>;

const EMPTY_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const EMPTY_BODY = Buffer.alloc(0);

/** Upstream headers as a flat lower-case record; repeated fields joined with `, `. */
export function flatHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    out[name.toLowerCase()] = typeof v === 'string' ? v : v.join(', ');
  }
  return out;
}

export class ResponseCapture {
  readonly limit: number;
  readonly #clock: Clock;
  readonly #started: number;
  #status = 0;
  #headers: Readonly<Record<string, string>> = EMPTY_HEADERS;
  #chunks: Buffer[] = [];
  #size = 0;
  #truncated = false;
  #result: CapturedResponse | null = null;
  #waiters: ((c: CapturedResponse) => void)[] = [];

  constructor(limit: number, clock: Clock) {
    this.limit = limit;
    this.#clock = clock;
    this.#started = clock.monotonic();
  }

  get done(): boolean {
    return this.#result !== null;
  }

  /** Calls `fn` with the captured response once it is complete (at once if it already is). */
  then(fn: (c: CapturedResponse) => void): void {
    if (this.#result !== null) fn(this.#result);
    else this.#waiters.push(fn);
  }

  /** Response headers arrived (a later attempt's start replaces an earlier one's). */
  start(status: number, headers: Headers): void {
    if (this.#result !== null) return;
    this.#status = status;
    this.#headers = flatHeaders(headers);
    this.#chunks = [];
    this.#size = 0;
    this.#truncated = false;
  }

  /** A body chunk; copied up to the limit (never a reference into the caller's buffers), then ignored. */
  data(chunk: Buffer): void {
    if (this.#truncated || this.#result !== null) return;
    const room = this.limit - this.#size;
    if (chunk.length > room) {
      this.#truncated = true;
      if (room > 0) { this.#chunks.push(Buffer.from(chunk.subarray(0, room))); this.#size += room; }
      return;
    }
    this.#chunks.push(Buffer.from(chunk));
    this.#size += chunk.length;
  }

  /** The response is complete, or failed with `error`. */
  end(error?: string): void {
    if (this.#result !== null) return;
    const chunks = this.#chunks;
    this.#chunks = [];
    const body = chunks.length === 0 ? EMPTY_BODY : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.#size);
    const r: CapturedResponse = {
      status: this.#status,
      headers: this.#headers,
      body,
      truncated: this.#truncated,
      durationMs: this.#clock.monotonic() - this.#started,
      ...(error !== undefined ? { error } : {}),
    };
    this.#result = r;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const fn of waiters) fn(r);
  }
}

/** The response as seen within `limit` bytes (a primary capture may be shared by mirrors with different limits). */
function within(c: CapturedResponse, limit: number): CapturedResponse {
  if (c.body.length <= limit) return c;
  return { ...c, body: c.body.subarray(0, limit), truncated: true };
}

export interface SampleMeta {
  readonly key: string;
  readonly ruleId: string;
  readonly routeId: string;
  readonly method: string;
  readonly path: string;
  /** The mirror (candidate) backend id. */
  readonly backend: string;
}

/** Collects the answers of one compared request and publishes its MirrorSample once all are in. */
export class Comparison {
  readonly meta: SampleMeta;
  readonly limit: number;
  #pending = 2;
  #abandoned = false;
  #primary: CapturedResponse | null = null;
  #candidate: CapturedResponse | null = null;
  #secondary: CapturedResponse | null = null;

  constructor(meta: SampleMeta, limit: number) {
    this.meta = meta;
    this.limit = limit;
  }

  /** A noise-cancellation call to the primary backend will report too. */
  expectSecondary(): void {
    this.#pending++;
  }

  primary(c: CapturedResponse): void {
    this.#primary = within(c, this.limit);
    this.#arrived();
  }

  candidate(c: CapturedResponse): void {
    this.#candidate = c;
    this.#arrived();
  }

  secondary(c: CapturedResponse): void {
    this.#secondary = c;
    this.#arrived();
  }

  /** The noise call was dropped (mirror concurrency bound): the sample goes out without it. */
  noSecondary(): void {
    this.#arrived();
  }

  /** The mirror copy was not completed as a mirror (body over the limit): nothing is published. */
  abandon(): void {
    this.#abandoned = true;
  }

  #arrived(): void {
    if (--this.#pending > 0 || this.#abandoned) return;
    if (!mirrorChannel.hasSubscribers) return;
    const m = this.meta;
    mirrorChannel.publish({
      key: m.key,
      ruleId: m.ruleId,
      routeId: m.routeId,
      method: m.method,
      path: m.path,
      backend: m.backend,
      primary: this.#primary!,
      candidate: this.#candidate!,
      ...(this.#secondary !== null ? { secondary: this.#secondary } : {}),
    } satisfies MirrorSample);
  }
}
