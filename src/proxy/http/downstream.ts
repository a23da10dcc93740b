/**
 * The client side of one exchange, the same shape for HTTP/1.1 (Ferry's own connection handler, see
 * h1/downstream.ts), HTTP/2 (a core ServerHttp2Stream, here) and WebSocket handshakes
 * (ws/raw-downstream.ts), so the request path is written once. Header lists are flat
 * `[name, value, ...]` with lower-case names.
 */
import type { ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';

export type Trailers = Record<string, string | string[] | undefined>;

export interface DownstreamListener {
  onDownstreamDrain(): void;
  /** The client went away or the response finished; called once. */
  onDownstreamClose(): void;
}

export interface Downstream {
  readonly protocol: 'HTTP/1.1' | 'HTTP/2' | 'WebSocket';
  readonly body: Readable;
  headersSent: boolean;
  listen(l: DownstreamListener): void;
  respond(status: number, headers: string[], endStream: boolean, wantTrailers: boolean): void;
  /** A body chunk; `more` says the next follows at once, so it may wait to leave with it (HTTP/1.1 does). */
  write(chunk: Buffer, more?: boolean): boolean;
  end(trailers: Trailers | null): void;
  /** Writes the last chunk of the body and ends the response in one go (no trailers). */
  endWith(chunk: Buffer): void;
  /** Resets the client side after a failure mid-response. */
  abort(): void;
  /** Ask for the connection to close after this response (drain, framing errors). */
  closeAfter(): void;
}

/**
 * The response head as node:http2 raw headers (`[name, value, ...]`, `:status` first). node:http2 takes
 * the flat list as it is: no header object to build and no per-name lookups, and repeated names stay
 * separate fields. It appends `date` to the array it is given, so the list is always a fresh one.
 */
// HOT PATH
function toH2Headers(status: number, headers: string[]): string[] {
  const out = new Array<string>(headers.length + 2);
  out[0] = ':status';
  out[1] = String(status);
  for (let i = 0; i < headers.length; i++) out[i + 2] = headers[i];
  return out;
}

export class H2Downstream implements Downstream {
  readonly protocol = 'HTTP/2';
  readonly body: Readable;
  headersSent = false;
  readonly #stream: ServerHttp2Stream;
  #listener: DownstreamListener | null = null;
  #trailers: Trailers | null = null;

  constructor(stream: ServerHttp2Stream) {
    this.body = stream;
    this.#stream = stream;
  }

  listen(l: DownstreamListener): void {
    this.#listener = l;
    this.#stream.once('close', () => l.onDownstreamClose());
  }

  closeAfter(): void {}

  respond(status: number, headers: string[], endStream: boolean, wantTrailers: boolean): void {
    this.headersSent = true;
    const s = this.#stream;
    if (s.destroyed || s.closed) return;
    if (wantTrailers) {
      s.once('wantTrailers', () => {
        const t = this.#trailers ?? {};
        try { s.sendTrailers(t); } catch { s.close(); }
      });
    }
    s.respond(toH2Headers(status, headers), { endStream, waitForTrailers: wantTrailers });
  }

  write(chunk: Buffer): boolean {
    const ok = this.#stream.write(chunk);
    if (!ok) this.#stream.once('drain', () => this.#listener?.onDownstreamDrain());
    return ok;
  }

  end(trailers: Trailers | null): void {
    this.#trailers = trailers;
    if (!this.#stream.destroyed) this.#stream.end();
  }

  endWith(chunk: Buffer): void {
    if (!this.#stream.destroyed) this.#stream.write(chunk);
    this.end(null);
  }

  abort(): void {
    if (!this.#stream.destroyed) this.#stream.close(0x2 /* INTERNAL_ERROR */);
  }
}
