/**
 * The Downstream of one HTTP/1.1 request on Ferry's own connection handler: serialises the response
 * head with its framing (Content-Length as given; none for 1xx/204/304 and HEAD; else chunked for
 * HTTP/1.1 clients and close-delimited for HTTP/1.0), `date` when absent and `connection` when the
 * connection closes after it (or an HTTP/1.0 client keeps it alive). The head waits for the first
 * body bytes so that head and body leave in one socket write, and body chunks that the upstream
 * says are followed at once by more (one burst of reads) wait for the burst's last chunk, so that a
 * large body read in several reads leaves in one write too. One object per request, created by the
 * connection; once the response is complete (or the connection gone) every call is a no-op, so a late
 * call from a finished exchange can never touch the next request.
 */
import type net from 'node:net';
import type { Readable } from 'node:stream';
import type { Downstream, DownstreamListener, Trailers } from '../http/downstream.ts';
import type { H1ServerConnection } from './server-connection.ts';
import { emptyBody } from './request-body.ts';
import { CRLF, LAST_CHUNK, httpDate, statusLine } from './response-writer.ts';
import { writeMessage, writeParts } from './write-message.ts';
import { recycle } from '../upstream/read-buffers.ts';

const FRAMING_NONE = 0;
const FRAMING_LENGTH = 1;
const FRAMING_CHUNKED = 2;
const FRAMING_CLOSE = 3;

/** Content-Length as a number, or -1 when it is not a plain non-negative integer. */
function lengthOf(value: string): number {
  const n = Number(value);
  return value.length > 0 && Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

function trailerLines(trailers: Trailers | null): string {
  let out = '';
  if (trailers === null) return out;
  for (const name in trailers) {
    const v = trailers[name];
    if (v === undefined) continue;
    if (typeof v === 'string') out += `${name}: ${v}\r\n`;
    else for (let i = 0; i < v.length; i++) out += `${name}: ${v[i]}\r\n`;
  }
  return out;
}

export class H1Downstream implements Downstream {
  readonly protocol = 'HTTP/1.1';
  headersSent = false;
  /** The response is complete, or the connection is gone: nothing more is written. */
  done = false;
  /** The connection closes once this response is complete. */
  closing = false;
  readonly #conn: H1ServerConnection;
  readonly #socket: net.Socket;
  readonly #isHead: boolean;
  readonly #http10: boolean;
  #body: Readable | null;
  #listener: DownstreamListener | null = null;
  #closeAsked = false;
  #notified = false;
  #waitingDrain = false;
  /** The serialised head while it waits for the first body bytes; '' once written. */
  #pending = '';
  #framing = FRAMING_NONE;
  /** Body bytes still to send under Content-Length framing. */
  #remaining = 0;
  /** Body chunks of the current read burst, written with the burst's last chunk (or at the end of this loop turn). */
  #burst: Buffer[] | null = null;

  constructor(conn: H1ServerConnection, socket: net.Socket, body: Readable | null, isHead: boolean, http10: boolean) {
    this.#conn = conn;
    this.#socket = socket;
    this.#body = body;
    this.#isHead = isHead;
    this.#http10 = http10;
  }

  /** The request body; requests without one get an ended stream, made only if someone asks. */
  get body(): Readable {
    return this.#body ??= emptyBody();
  }

  listen(l: DownstreamListener): void {
    this.#listener = l;
  }

  closeAfter(): void {
    this.#closeAsked = true;
    if (this.headersSent) this.closing = true;
  }

  // HOT PATH
  respond(status: number, headers: string[], endStream: boolean): void {
    this.headersSent = true;
    if (this.done) return;
    let head = statusLine(status);
    let length = -1;
    let hasDate = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      switch (name.length) {
        case 4: if (name === 'date') hasDate = true; break;
        case 10: if (name === 'connection') continue; break;
        case 14: if (name === 'content-length') { if (length !== -1) continue; length = lengthOf(headers[i + 1]); if (length === -1) continue; } break;
        case 17: if (name === 'transfer-encoding') continue; break;
      }
      head += `${name}: ${headers[i + 1]}\r\n`;
    }
    let framing: number;
    if (status < 200 || status === 204 || status === 304) framing = FRAMING_NONE;
    else if (length >= 0) framing = this.#isHead ? FRAMING_NONE : FRAMING_LENGTH;
    else if (this.#isHead) framing = FRAMING_NONE;
    else if (endStream) { framing = FRAMING_LENGTH; length = 0; head += 'content-length: 0\r\n'; }
    else if (!this.#http10) { framing = FRAMING_CHUNKED; head += 'transfer-encoding: chunked\r\n'; }
    else framing = FRAMING_CLOSE;
    this.#framing = framing;
    this.#remaining = length;
    if (!hasDate) head += `date: ${httpDate()}\r\n`;
    this.closing = this.#closeAsked || framing === FRAMING_CLOSE || this.#conn.mustClose();
    if (this.closing) head += 'connection: close\r\n\r\n';
    else head += this.#http10 ? 'connection: keep-alive\r\n\r\n' : CRLF;
    if (endStream) {
      this.#socket.write(head, 'latin1');
      this.#finish();
    } else {
      this.#pending = head;
    }
  }

  /**
   * Writes a body chunk. `more` says the upstream is reading the next one right now (its read filled
   * the buffer): the chunk is then held and leaves with the next chunk that comes without `more`, or
   * at the end of this event-loop turn if none does, and write says it was taken.
   */
  // HOT PATH
  write(chunk: Buffer, more = false): boolean {
    if (this.done) return true;
    if (this.#framing === FRAMING_LENGTH && (this.#remaining -= chunk.length) < 0) { this.abort(); return true; }
    if (more && this.#framing !== FRAMING_NONE && chunk.length > 0) {
      if (this.#burst === null) {
        this.#burst = [chunk];
        setImmediate(flushBurst, this);
      } else {
        this.#burst.push(chunk);
      }
      return true;
    }
    const head = this.#pending;
    this.#pending = '';
    let ok: boolean;
    if (this.#burst !== null) {
      ok = this.#writeBurst(head, chunk);
    } else {
      switch (this.#framing) {
        case FRAMING_NONE:
          return head.length === 0 || this.#socket.write(head, 'latin1');
        case FRAMING_CHUNKED:
          ok = chunk.length === 0 ? writeMessage(this.#socket, head, null, '') : writeMessage(this.#socket, `${head}${chunk.length.toString(16)}\r\n`, chunk, CRLF);
          break;
        default:
          ok = writeMessage(this.#socket, head, chunk, '');
      }
      this.#release(chunk);
    }
    if (!ok) this.#waitingDrain = true;
    return ok;
  }

  /** Writes the held burst (then `last`, when given) after `head`, as one chunk under chunked framing, in one write. */
  #writeBurst(head: string, last: Buffer | null, tail = ''): boolean {
    const parts = this.#burst!;
    this.#burst = null;
    if (last !== null && last.length > 0) parts.push(last);
    let ok: boolean;
    if (this.#framing !== FRAMING_CHUNKED) {
      ok = writeParts(this.#socket, head, parts, tail);
    } else {
      let size = 0;
      for (let i = 0; i < parts.length; i++) size += parts[i].length;
      ok = writeParts(this.#socket, `${head}${size.toString(16)}\r\n`, parts, tail.length === 0 ? CRLF : `\r\n${tail}`);
    }
    for (let i = 0; i < parts.length; i++) this.#release(parts[i]);
    return ok;
  }

  /** Writes a held burst whose last chunk did not come in this event-loop turn. */
  flushBurst(): void {
    if (this.#burst === null || this.done) return;
    const head = this.#pending;
    this.#pending = '';
    if (!this.#writeBurst(head, null)) this.#waitingDrain = true;
  }

  end(trailers: Trailers | null): void {
    if (this.done) return;
    this.flushBurst();
    const head = this.#pending;
    this.#pending = '';
    if (this.#framing === FRAMING_CHUNKED) {
      this.#socket.write(trailers === null ? head + LAST_CHUNK : `${head}0\r\n${trailerLines(trailers)}\r\n`, 'latin1');
    } else {
      if (head.length > 0) this.#socket.write(head, 'latin1');
      // A Content-Length body cut short cannot be framed any more: the client must see the connection end.
      if (this.#framing === FRAMING_LENGTH && this.#remaining !== 0) { this.abort(); return; }
    }
    this.#finish();
  }

  // HOT PATH: the last chunk of the body and the end of the response in one write (with the head when it is still pending).
  endWith(chunk: Buffer): void {
    if (this.done) return;
    const head = this.#pending;
    this.#pending = '';
    if (this.#burst !== null) {
      if (this.#framing === FRAMING_LENGTH && (this.#remaining -= chunk.length) !== 0) { this.abort(); return; }
      this.#writeBurst(head, chunk, this.#framing === FRAMING_CHUNKED ? LAST_CHUNK : '');
      this.#finish();
      return;
    }
    switch (this.#framing) {
      case FRAMING_NONE:
        if (head.length > 0) this.#socket.write(head, 'latin1');
        break;
      case FRAMING_CHUNKED:
        writeMessage(this.#socket, chunk.length === 0 ? head : `${head}${chunk.length.toString(16)}\r\n`, chunk, chunk.length === 0 ? LAST_CHUNK : '\r\n0\r\n\r\n');
        break;
      case FRAMING_LENGTH:
        if ((this.#remaining -= chunk.length) !== 0) { this.abort(); return; }
        writeMessage(this.#socket, head, chunk, '');
        break;
      default:
        writeMessage(this.#socket, head, chunk, '');
    }
    this.#release(chunk);
    this.#finish();
  }

  /** `chunk` was just written: when the socket took every byte at once, nothing holds it any more and its memory may take a later upstream read. */
  #release(chunk: Buffer): void {
    if (this.#socket.writableLength === 0) recycle(chunk);
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    this.#burst = null;
    this.#socket.destroy();
  }

  // HOT PATH
  #finish(): void {
    this.done = true;
    this.#conn.responseDone(this);
  }

  /** The socket drained after a write returned false. */
  drained(): void {
    if (!this.#waitingDrain) return;
    this.#waitingDrain = false;
    this.#listener?.onDownstreamDrain();
  }

  /** The connection answered or went away on its own: nothing more is written for this response. */
  kill(): void {
    this.done = true;
    this.#burst = null;
    this.headersSent = true;
  }

  /** Tells the exchange its response is over (complete or aborted); once, and never from inside respond/end/endWith. */
  notify(): void {
    if (this.#notified) return;
    this.#notified = true;
    this.#listener?.onDownstreamClose();
  }
}

/** setImmediate callback: a burst's last chunk did not come in the turn that began it. */
function flushBurst(d: H1Downstream): void {
  d.flushBurst();
}
