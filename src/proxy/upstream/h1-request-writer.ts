/**
 * Writes HTTP/1.1 requests onto one upstream socket: the head (request line, the request's fields,
 * then the framing Ferry decides), a Buffer body in the same write, or a streamed body with
 * backpressure (Content-Length when the client gave one, else chunked). Framing fields in the
 * request's list are never copied: the body Ferry actually sends decides them.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { UpstreamRequest } from './pool.ts';
import { UPSTREAM_REQUEST_BODY, UpstreamError } from './errors.ts';
import { writeMessage } from '../h1/write-message.ts';

/** Heads and bodies up to this size go out as one buffer; larger bodies are written corked, uncopied. */
const noop = (): void => {};
const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/** Methods whose request without a body still says `content-length: 0` (as undici does). */
function expectsPayload(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}

export interface RequestWriterOwner {
  /** The streamed body has been written completely. */
  requestWritten(): void;
  /** The streamed body failed, ended early or ran past its Content-Length. */
  requestFailed(err: Error): void;
}

export class RequestWriter {
  readonly #socket: Socket;
  readonly #owner: RequestWriterOwner;
  #body: Readable | null = null;
  /** Declared length of the streamed body, -1 when it is sent chunked. */
  #length = -1;
  #sent = 0;
  /** The socket pushed back: the body is paused until 'drain'. */
  #waiting = false;

  constructor(socket: Socket, owner: RequestWriterOwner) {
    this.#socket = socket;
    this.#owner = owner;
    socket.on('drain', this.#onDrain);
  }

  /**
   * Writes `req`. Returns true when the whole request is in the socket, false while a streamed body
   * is still being written (the owner hears requestWritten or requestFailed later).
   */
  // HOT PATH
  write(req: UpstreamRequest): boolean {
    const method = req.method;
    const body = req.body;
    const h = req.headers;
    let head = method + ' ' + req.path + ' HTTP/1.1\r\n';
    let clientLength: string | null = null;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i];
      if (name === 'content-length') { clientLength = h[i + 1]; continue; }
      if (name === 'transfer-encoding') continue;
      head += name + ': ' + h[i + 1] + '\r\n';
    }
    const socket = this.#socket;
    if (body === null) {
      head += expectsPayload(method) ? 'content-length: 0\r\n\r\n' : '\r\n';
      socket.write(head, 'latin1');
      return true;
    }
    if (Buffer.isBuffer(body)) {
      head += 'content-length: ' + body.length + '\r\n\r\n';
      writeMessage(socket, head, body, '');
      return true;
    }
    return this.#stream(body as Readable, head, clientLength);
  }

  #stream(body: Readable, head: string, clientLength: string | null): boolean {
    this.#length = clientLength === null ? -1 : Number(clientLength);
    this.#sent = 0;
    this.#waiting = false;
    head += this.#length >= 0 ? 'content-length: ' + clientLength + '\r\n\r\n' : 'transfer-encoding: chunked\r\n\r\n';
    this.#socket.write(head, 'latin1');
    if (body.destroyed && !body.readableEnded) {
      this.#owner.requestFailed(new UpstreamError(UPSTREAM_REQUEST_BODY, 'request body was destroyed before it was sent'));
      return false;
    }
    this.#body = body;
    body.on('data', this.#onData);
    body.on('end', this.#onEnd);
    body.on('error', this.#onError);
    body.on('close', this.#onClose);
    if (body.readableEnded) this.#onEnd();
    else if (body.isPaused()) body.resume();
    return false;
  }

  /** Stops streaming the body (the response ended or failed first) and destroys it. */
  stop(): void {
    const body = this.#detach();
    if (body !== null && !body.destroyed) body.destroy();
  }

  #detach(): Readable | null {
    const body = this.#body;
    if (body === null) return null;
    this.#body = null;
    this.#waiting = false;
    body.off('data', this.#onData);
    body.off('end', this.#onEnd);
    body.off('error', this.#onError);
    body.off('close', this.#onClose);
    // The body may still fail (the client aborting): an error with no listener would crash the process.
    body.on('error', noop);
    return body;
  }

  #fail(message: string, cause?: unknown): void {
    this.stop();
    this.#owner.requestFailed(new UpstreamError(UPSTREAM_REQUEST_BODY, message, cause));
  }

  readonly #onData = (chunk: Buffer | string): void => {
    const body = this.#body;
    if (body === null) return;
    if (typeof chunk === 'string') chunk = Buffer.from(chunk);
    if (chunk.length === 0) return;
    this.#sent += chunk.length;
    const socket = this.#socket;
    let ok: boolean;
    if (this.#length >= 0) {
      if (this.#sent > this.#length) return this.#fail('request body longer than its content-length');
      ok = socket.write(chunk);
    } else {
      socket.cork();
      socket.write(chunk.length.toString(16) + '\r\n', 'latin1');
      socket.write(chunk);
      ok = socket.write(CRLF);
      socket.uncork();
    }
    if (!ok) {
      this.#waiting = true;
      body.pause();
    }
  };

  readonly #onDrain = (): void => {
    if (!this.#waiting) return;
    this.#waiting = false;
    this.#body?.resume();
  };

  readonly #onEnd = (): void => {
    if (this.#body === null) return;
    if (this.#length >= 0 && this.#sent !== this.#length) return this.#fail('request body shorter than its content-length');
    this.#detach();
    if (this.#length < 0) this.#socket.write(LAST_CHUNK);
    this.#owner.requestWritten();
  };

  readonly #onError = (err: Error): void => {
    if (this.#body === null) return;
    this.#fail('request body failed', err);
  };

  readonly #onClose = (): void => {
    if (this.#body === null) return;
    // Destroyed without an error and before its end (the client went away).
    this.#fail('request body closed before its end');
  };
}
