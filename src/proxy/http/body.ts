/**
 * Request bodies towards upstreams. BodyPipe re-exposes the client's body as a stream of its own, so
 * an upstream failure destroys the pipe and never the client's socket or HTTP/2 stream; it keeps
 * backpressure (the client is paused while the upstream is), counts bytes and can tee chunks to a
 * mirror only while the mirror keeps up. bufferBody() reads up to a limit for retryable requests.
 */
import { Readable, type Writable } from 'node:stream';

export class BodyPipe extends Readable {
  bytes = 0;
  readonly #source: Readable;
  #tee: Writable | null = null;
  #ended = false;
  readonly #onData = (chunk: Buffer): void => {
    this.bytes += chunk.length;
    const tee = this.#tee;
    if (tee !== null && !tee.write(chunk)) {
      // The mirror cannot keep up: drop it rather than slow the primary.
      this.#tee = null;
      tee.destroy(new Error('mirror body too slow'));
    }
    if (!this.push(chunk)) this.#source.pause();
  };
  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#tee?.end();
    this.push(null);
  };
  readonly #onError = (err?: Error): void => {
    if (this.#ended) return;
    const e = err ?? new Error('client aborted the request body');
    this.#tee?.destroy(e);
    this.destroy(e);
  };

  constructor(source: Readable, prefix: readonly Buffer[] | null) {
    super({ highWaterMark: 64 * 1024 });
    this.#source = source;
    if (prefix !== null) for (const c of prefix) { this.bytes += c.length; this.push(c); }
    if (source.readableEnded) { this.#onEnd(); return; }
    source.on('data', this.#onData);
    source.on('end', this.#onEnd);
    source.on('error', this.#onError);
    source.on('aborted', this.#onError);
  }

  /** Sends a copy of every further chunk to `sink`; the sink is destroyed if it ever pushes back. */
  tee(sink: Writable): void {
    if (this.#ended) { sink.end(); return; }
    this.#tee = sink;
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
    this.#tee?.destroy(err ?? undefined);
    this.#tee = null;
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
