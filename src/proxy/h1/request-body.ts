/**
 * The body of one HTTP/1.1 request as the request path reads it (body.ts: data/end/error/'aborted',
 * pause/resume, readableEnded). The connection pushes the decoded bytes in; when the consumer has
 * enough it pauses the client socket, and reading again (_read) resumes it. A client gone mid-body
 * makes the body emit 'aborted' and then an error (an error nobody listens to is dropped, as
 * node:http's IncomingMessage does, so an unread body can never crash the process).
 */
import { Readable } from 'node:stream';

/** What the body needs from its connection. */
export interface BodySource {
  /** The consumer wants more bytes. */
  onBodyRead(): void;
}

export class RequestAborted extends Error {
  override name = 'RequestAborted';
  readonly code = 'ECONNRESET';
  constructor() { super('aborted'); }
}

export class H1RequestBody extends Readable {
  readonly #source: BodySource;

  constructor(source: BodySource) {
    super({ highWaterMark: 64 * 1024 });
    this.#source = source;
  }

  override _read(): void {
    this.#source.onBodyRead();
  }

  /** The client went away before the body was complete. */
  abort(): void {
    if (this.destroyed || this.readableEnded) return;
    this.emit('aborted');
    this.destroy(new RequestAborted());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    cb(err !== null && this.listenerCount('error') > 0 ? err : null);
  }
}

/** The body of a request without one: ended as soon as anyone reads it. */
export function emptyBody(): Readable {
  const r = new Readable({ read() {} });
  r.push(null);
  return r;
}
