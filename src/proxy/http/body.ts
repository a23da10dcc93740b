/**
 * Request bodies towards upstreams. BodyPipe re-exposes the client's body as a stream of its own, so
 * an upstream failure destroys the pipe and never the client's socket or HTTP/2 stream; it keeps
 * backpressure (the client is paused while the upstream is), counts bytes and can tee chunks to
 * copies (mirrors, comparison calls) only while each keeps up and stays within its byte limit: a
 * copy that pushes back or passes its limit is cut off, the primary is never paused for it.
 * bufferBody() reads up to a limit for retryable requests.
 */
import { Readable, type Writable } from 'node:stream';

/** A copy of the body: destroyed when it pushes back, or when it passes `limit` bytes (`onOver` is called first). */
interface Tee {
  readonly sink: Writable;
  readonly limit: number;
  readonly onOver: (() => void) | null;
  bytes: number;
}

export class MirrorBodyTooSlow extends Error {
  override name = 'MirrorBodyTooSlow';
  constructor() { super('mirror body too slow'); }
}

export class MirrorBodyOverLimit extends Error {
  override name = 'MirrorBodyOverLimit';
  constructor() { super('mirror body over its limit'); }
}

/** Feeds one chunk to a tee; false when the tee was cut off. */
function feed(t: Tee, chunk: Buffer): boolean {
  t.bytes += chunk.length;
  if (t.bytes > t.limit) {
    t.onOver?.();
    t.sink.destroy(new MirrorBodyOverLimit());
    return false;
  }
  if (!t.sink.write(chunk)) {
    // The copy cannot keep up: drop it rather than slow the primary.
    t.sink.destroy(new MirrorBodyTooSlow());
    return false;
  }
  return true;
}

export class BodyPipe extends Readable {
  bytes = 0;
  readonly #source: Readable;
  #tees: Tee[] | null = null;
  /** Chunks read before the pipe existed (retry buffering), replayed to tees attached right away. */
  #prefix: readonly Buffer[] | null;
  #ended = false;
  readonly #onData = (chunk: Buffer): void => {
    this.bytes += chunk.length;
    const tees = this.#tees;
    if (tees !== null) {
      for (let i = tees.length - 1; i >= 0; i--) if (!feed(tees[i], chunk)) tees.splice(i, 1);
      if (tees.length === 0) this.#tees = null;
    }
    if (!this.push(chunk)) this.#source.pause();
  };
  readonly #onEnd = (): void => {
    this.#ended = true;
    const tees = this.#tees;
    this.#tees = null;
    if (tees !== null) for (const t of tees) t.sink.end();
    this.push(null);
  };
  readonly #onError = (err?: Error): void => {
    if (this.#ended) return;
    const e = err ?? new Error('client aborted the request body');
    this.#destroyTees(e);
    this.destroy(e);
  };

  constructor(source: Readable, prefix: readonly Buffer[] | null) {
    super({ highWaterMark: 64 * 1024 });
    this.#source = source;
    this.#prefix = prefix;
    if (prefix !== null) for (const c of prefix) { this.bytes += c.length; this.push(c); }
    if (source.readableEnded) { this.#onEnd(); return; }
    source.on('data', this.#onData);
    source.on('end', this.#onEnd);
    source.on('error', this.#onError);
    source.on('aborted', this.#onError);
  }

  /**
   * Sends a copy of the body to `sink`: the chunks read so far (when attached before the primary
   * starts reading, see forgetPrefix) and every further one. The sink is destroyed if it ever pushes
   * back, or once more than `limit` bytes passed (after calling `onOver`).
   */
  tee(sink: Writable, limit = Infinity, onOver: (() => void) | null = null): void {
    const t: Tee = { sink, limit, onOver, bytes: 0 };
    const prefix = this.#prefix;
    if (prefix !== null) for (const c of prefix) if (!feed(t, c)) return;
    if (this.#ended) { sink.end(); return; }
    (this.#tees ??= []).push(t);
  }

  /** No more tees will be attached from the start: drop the reference to the replayable prefix. */
  forgetPrefix(): void {
    this.#prefix = null;
  }

  #destroyTees(err: Error | undefined): void {
    const tees = this.#tees;
    this.#tees = null;
    if (tees !== null) for (const t of tees) t.sink.destroy(err);
  }

  override _read(): void {
    if (!this.#ended) this.#source.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const s = this.#source;
    s.off('data', this.#onData);
    s.off('end', this.#onEnd);
    s.off('error', this.#onError);
    s.off('aborted', this.#onError);
    this.#prefix = null;
    this.#destroyTees(err ?? undefined);
    cb(err);
  }
}

export type Buffered = { readonly complete: true; readonly body: Buffer } | { readonly complete: false; readonly prefix: Buffer[] };

/**
 * Reads the body up to `limit` bytes. Complete bodies come back as one Buffer (replayable for
 * retries); longer ones come back as the chunks read so far, with the source paused.
 */
export function bufferBody(source: Readable, limit: number): Promise<Buffered> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('aborted', onError);
    };
    const onData = (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size > limit) {
        source.pause();
        cleanup();
        resolve({ complete: false, prefix: chunks });
      }
    };
    const onEnd = () => { cleanup(); resolve({ complete: true, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }); };
    const onError = (err?: Error) => { cleanup(); reject(err ?? new Error('client aborted the request body')); };
    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    source.on('aborted', onError);
  });
}
