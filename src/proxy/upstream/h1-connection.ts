/**
 * One HTTP/1.1 connection to an upstream on a raw net.Socket: it writes a request (h1-request-writer),
 * frames the response itself (h1/parse.ts, h1/chunked.ts) and drives the request's UpstreamHandler
 * through a small per-request controller (H1RequestControl). Socket listeners are installed once per
 * connection; the request in flight lives in fields, so a kept-alive connection serves request after
 * request without allocating closures or listeners. The pool (h1-pool.ts) decides where connections come from and go.
 */
import type { Socket } from 'node:net';
import { HttpParseError, parseResponseHead, type ResponseHead } from '../h1/parse.ts';
import { ChunkedDecoder } from '../h1/chunked.ts';
import { objectFromFlat, type UpstreamController, type UpstreamHandler, type UpstreamHeaders, type UpstreamRequest } from './pool.ts';
import { RequestWriter, type RequestWriterOwner } from './h1-request-writer.ts';
import { isIdempotent } from './retry-policy.ts';
import { handOn } from './read-buffers.ts';
import {
  UPSTREAM_CLOSED, UPSTREAM_CONNECT_TIMEOUT, UPSTREAM_PROTOCOL, UpstreamError, classify,
} from './errors.ts';

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_FIELDS = 200;
const NO_TRAILERS: UpstreamHeaders = Object.freeze({}) as UpstreamHeaders;
const NO_CONTEXT = Object.freeze({});

/** Response phases. */
const P_HEAD = 0;
const P_LENGTH = 1;
const P_CHUNKED = 2;
/** The last chunk and trailers are decoded; the end is delivered once held data is. */
const P_CHUNKS_DONE = 3;
const P_UNTIL_CLOSE = 4;
const P_NO_BODY = 5;

/** What the connection needs from its pool. */
export interface ConnectionOwner {
  connected(conn: H1Connection): void;
  /** The response ended cleanly and the connection may serve another request. */
  release(conn: H1Connection): void;
  /** The connection must not be handed out again (it is closing). */
  unusable(conn: H1Connection): void;
  /** The socket closed; `connectFailed` when it never connected because of an error. */
  gone(conn: H1Connection, connectFailed: boolean): void;
  /** Sends `req` again on a fresh connection (see #finishAtEof). */
  retry(req: UpstreamRequest, handler: UpstreamHandler): void;
}


export class H1Connection implements RequestWriterOwner {
  readonly socket: Socket;
  readonly #owner: ConnectionOwner;
  readonly #writer: RequestWriter;
  connected = false;
  /** Closing or closed: never handed a request again. */
  dead = false;
  /** On the pool's idle stack. */
  idle = false;
  /** The pool's sweep tick when the connection went idle. */
  idleTick = 0;
  #connectTimer: NodeJS.Timeout | null = null;
  readonly #connectTimeoutMs: number;
  #socketError: Error | null = null;
  /** The upstream ended or the socket closed. */
  #eof = false;

  // The request in flight (handler null when idle).
  #handler: UpstreamHandler | null = null;
  #req: UpstreamRequest | null = null;
  /** The connection served a request before this one: it may have been closed under us. */
  #reused = false;
  /** The whole request is in the socket. */
  #written = false;
  #headRequest = false;
  /** The controller of the request in flight (null when idle). */
  #control: H1RequestControl | null = null;
  #paused = false;

  // Its response.
  #phase = P_HEAD;
  /** Bytes of a response head not complete yet. */
  #partial: Buffer | null = null;
  #remaining = 0;
  #decoder: ChunkedDecoder | null = null;
  #keepAlive = false;
  #gotBytes = false;
  /** The read being processed filled its buffer, so the socket reads again at once: more body is on its way. */
  #more = false;
  /** Bytes read but not processed because the handler paused. */
  #pending: Buffer | null = null;
  #pendingOff = 0;
  /** Chunk data decoded while paused, delivered on resume. */
  #held: Buffer[] | null = null;

  constructor(owner: ConnectionOwner, socket: Socket, connectTimeoutMs: number) {
    this.#owner = owner;
    this.socket = socket;
    this.#connectTimeoutMs = connectTimeoutMs;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    socket.on('connect', this.#onConnect);
    // Sockets opened with readOptions() deliver to onData() themselves; any other socket through 'data'.
    socket.on('data', this.onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    this.#writer = new RequestWriter(socket, this);
    if (connectTimeoutMs > 0) this.#connectTimer = setTimeout(this.#onConnectTimeout, connectTimeoutMs);
  }

  /** The controller of the request in flight, or null. */
  get control(): H1RequestControl | null { return this.#control; }
  get paused(): boolean { return this.#paused; }

  /** Sends `req` and reports its response to `handler`. `reused`: the connection served a request before. */
  // HOT PATH
  start(req: UpstreamRequest, handler: UpstreamHandler, reused: boolean): void {
    this.#handler = handler;
    this.#req = req;
    this.#reused = reused;
    this.#headRequest = req.method === 'HEAD';
    this.#phase = P_HEAD;
    this.#gotBytes = false;
    this.#keepAlive = false;
    this.#paused = false;
    const control = new H1RequestControl(this);
    this.#control = control;
    handler.onRequestStart?.(control, NO_CONTEXT);
    if (this.#handler !== handler) return; // aborted in onRequestStart
    this.#written = false;
    if (this.#writer.write(req)) this.#written = true;
  }

  // What the request's H1RequestControl does while it is the connection's.

  pause(): void {
    if (this.#handler === null || this.#paused) return;
    this.#paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const h = this.#handler;
    if (h === null) return;
    try {
      const held = this.#held;
      if (held !== null) {
        this.#held = null;
        for (let i = 0; i < held.length; i++) {
          if (this.#handler !== h) return;
          if (this.#paused) { this.#held = held.slice(i); return; }
          h.onResponseData?.(this.#control!, held[i]);
        }
      }
      const p = this.#pending;
      if (p !== null) {
        this.#pending = null;
        this.#process(h, p, this.#pendingOff);
      }
      if (this.#handler !== h || this.#paused) return;
      if (this.#eof) { this.#finishAtEof(); return; }
      this.socket.resume();
    } catch (err) {
      this.#fail(asFailure(err));
    }
  }

  abort(reason: Error): void {
    if (this.#handler === null) return;
    this.#fail(reason);
  }

  // RequestWriterOwner

  requestWritten(): void {
    this.#written = true;
  }

  requestFailed(err: Error): void {
    this.#fail(err);
  }

  /** Closes the connection, failing the request in flight with `err`. */
  destroy(err: Error | null): void {
    if (this.#handler !== null) this.#fail(err ?? new UpstreamError(UPSTREAM_CLOSED, 'upstream connection closed by Ferry'));
    else this.#destroy();
  }

  // Socket events

  readonly #onConnect = (): void => {
    this.#clearConnectTimer();
    this.connected = true;
    this.#owner.connected(this);
  };

  readonly #onConnectTimeout = (): void => {
    this.#connectTimer = null;
    if (this.connected || this.socket.destroyed) return;
    this.socket.destroy(new UpstreamError(UPSTREAM_CONNECT_TIMEOUT, `upstream connect timed out after ${this.#connectTimeoutMs} ms`));
  };

  // HOT PATH
  /** Response bytes from the socket. */
  readonly onData = (chunk: Buffer, more = false): void => {
    const h = this.#handler;
    if (h === null) {
      // Bytes nobody asked for (on an idle connection): it cannot be trusted with another request.
      this.#destroy();
      return;
    }
    this.#gotBytes = true;
    if (this.#paused) { this.#hold(chunk); return; }
    this.#more = more;
    try {
      this.#process(h, chunk, 0);
    } catch (err) {
      this.#fail(asFailure(err));
    }
    this.#more = false;
  };

  readonly #onEnd = (): void => {
    this.#atEof();
  };

  readonly #onError = (err: Error): void => {
    if (this.#socketError === null) this.#socketError = err;
  };

  readonly #onClose = (): void => {
    this.#clearConnectTimer();
    this.dead = true;
    this.#owner.gone(this, !this.connected && this.#socketError !== null);
    this.#atEof();
  };

  #clearConnectTimer(): void {
    if (this.#connectTimer !== null) {
      clearTimeout(this.#connectTimer);
      this.#connectTimer = null;
    }
  }

  /** Keeps bytes that arrived while paused (after what is already kept). */
  #hold(chunk: Buffer): void {
    const p = this.#pending;
    if (p === null) { this.#pending = chunk; this.#pendingOff = 0; return; }
    this.#pending = Buffer.concat([p.subarray(this.#pendingOff), chunk]);
    this.#pendingOff = 0;
  }

  /**
   * Frames response bytes buf[off..] for handler `h`, delivering as it goes. Returns when the bytes
   * are used up, the handler paused (the rest is kept), or the request is over.
   */
  // HOT PATH
  #process(h: UpstreamHandler, buf: Buffer, off: number): void {
    for (;;) {
      if (this.#handler !== h) return; // ended, failed or retried in a callback
      if (this.#paused && this.#phase !== P_CHUNKS_DONE) {
        if (off < buf.length) { this.#pending = buf; this.#pendingOff = off; }
        return;
      }
      switch (this.#phase) {
        case P_HEAD: {
          if (off >= buf.length) return;
          let data = buf;
          let start = off;
          const partial = this.#partial;
          if (partial !== null) {
            this.#partial = null;
            data = Buffer.concat([partial, off === 0 ? buf : buf.subarray(off)]);
            start = 0;
          }
          const head = parseResponseHead(data, start, MAX_HEAD_BYTES, MAX_FIELDS);
          if (head === null) {
            this.#partial = start === 0 ? data : data.subarray(start);
            return;
          }
          buf = data;
          off = head.end;
          const status = head.status;
          if (status < 200) {
            // 100 Continue, 102, 103 are not relayed; 101 answers an upgrade nobody asked for.
            if (status === 101) throw new UpstreamError(UPSTREAM_PROTOCOL, 'upstream switched protocols unasked');
            continue;
          }
          const hasBody = this.#frame(head);
          const c = this.#control!;
          if (h.onResponseStartFlat !== undefined) h.onResponseStartFlat(c, status, head.headers);
          else h.onResponseStart?.(c, status, objectFromFlat(head.headers), '');
          if (!hasBody) {
            if (this.#handler === h) this.#complete(off >= buf.length, NO_TRAILERS);
            return;
          }
          continue;
        }
        case P_LENGTH: {
          const len = buf.length;
          if (off >= len) return;
          const n = Math.min(this.#remaining, len - off);
          const chunk = off === 0 && n === len ? buf : buf.subarray(off, off + n);
          if (chunk !== buf && off + n === len) handOn(buf, chunk);
          off += n;
          this.#remaining -= n;
          h.onResponseData?.(this.#control!, chunk, this.#more && off >= len);
          if (this.#remaining === 0) {
            if (this.#handler === h) this.#complete(off >= len, NO_TRAILERS);
            return;
          }
          continue;
        }
        case P_CHUNKED: {
          if (off >= buf.length) return;
          const end = this.#decoder!.decode(buf, off, this.#onChunk);
          if (end < 0) return;
          off = end;
          this.#phase = P_CHUNKS_DONE;
          continue;
        }
        case P_CHUNKS_DONE: {
          if (this.#held !== null) { this.#pending = buf; this.#pendingOff = off; return; }
          const t = this.#decoder!.trailers;
          this.#complete(off >= buf.length, t.length === 0 ? NO_TRAILERS : objectFromFlat(t));
          return;
        }
        case P_UNTIL_CLOSE: {
          if (off >= buf.length) return;
          const chunk = off === 0 ? buf : buf.subarray(off);
          if (chunk !== buf) handOn(buf, chunk);
          off = buf.length;
          h.onResponseData?.(this.#control!, chunk, this.#more);
          continue;
        }
        default:
          return;
      }
    }
  }

  /** Sets how the body of the response with `head` is delimited; false when it has none. */
  #frame(head: ResponseHead): boolean {
    this.#keepAlive = head.keepAlive;
    const status = head.status;
    if (this.#headRequest || status === 204 || status === 304 || head.contentLength === 0) {
      this.#phase = P_NO_BODY;
      return false;
    }
    if (head.chunked) {
      this.#decoder = new ChunkedDecoder();
      this.#phase = P_CHUNKED;
    } else if (head.contentLength > 0) {
      this.#remaining = head.contentLength;
      this.#phase = P_LENGTH;
    } else {
      this.#phase = P_UNTIL_CLOSE;
      this.#keepAlive = false;
    }
    return true;
  }

  /** Chunk data from the decoder: delivered, or held while the handler is paused. */
  readonly #onChunk = (chunk: Buffer): void => {
    const h = this.#handler;
    if (h === null) return;
    if (this.#paused || this.#held !== null) {
      (this.#held ??= []).push(chunk);
      return;
    }
    h.onResponseData?.(this.#control!, chunk);
  };

  /** The upstream ended or the socket closed: finish what that decides, after any kept bytes. */
  #atEof(): void {
    this.#eof = true;
    if (!this.dead) {
      this.dead = true;
      this.#owner.unusable(this);
    }
    if (this.#handler === null) {
      if (!this.socket.destroyed) this.socket.destroy();
      return;
    }
    if (this.#paused || this.#pending !== null || this.#held !== null) return;
    this.#finishAtEof();
  }

  #finishAtEof(): void {
    const req = this.#req!;
    const err = this.#socketError;
    if (this.#phase === P_UNTIL_CLOSE && err === null) {
      this.#complete(false, NO_TRAILERS);
      return;
    }
    // A kept-alive connection the upstream closed as we reused it (the keep-alive race): nothing of
    // the request was processed, so a request that may be sent twice goes again on a new connection.
    const body = req.body;
    if (!this.#gotBytes && this.#reused && (body === null || Buffer.isBuffer(body)) && isIdempotent(req.method)) {
      const h = this.#handler!;
      this.#clearRequest();
      this.#destroy();
      this.#owner.retry(req, h);
      return;
    }
    this.#fail(this.#closeError(err));
  }

  #closeError(err: Error | null): Error {
    if (err === null) {
      return new UpstreamError(UPSTREAM_CLOSED, this.#phase === P_HEAD
        ? 'upstream closed the connection before the response head'
        : 'upstream closed the connection before the end of the response');
    }
    // Once connected, a code that reads as a connect failure (ETIMEDOUT from TCP keep-alive) is not
    // one: the request may have been processed.
    if (this.connected && classify(err) === 'connect') return new UpstreamError(UPSTREAM_CLOSED, `upstream connection failed: ${err.message}`, err);
    return err;
  }

  /** The response is complete: hand the connection back when it can serve another request. */
  // HOT PATH
  #complete(nothingAfter: boolean, trailers: UpstreamHeaders): void {
    const h = this.#handler!;
    const c = this.#control!;
    const keep = nothingAfter && this.#keepAlive && this.#written && !this.#eof && !this.dead;
    if (!this.#written) this.#writer.stop();
    const wasPaused = this.#paused;
    this.#clearRequest();
    if (keep) {
      if (wasPaused) this.socket.resume();
      this.#owner.release(this);
    } else {
      this.#destroy();
    }
    h.onResponseEnd?.(c, trailers);
  }

  /** Fails the request in flight with `err` and closes the connection. */
  #fail(err: Error): void {
    const h = this.#handler;
    if (h === null) return;
    const c = this.#control;
    this.#clearRequest();
    this.#writer.stop();
    this.#destroy();
    h.onResponseError?.(c, err);
  }

  #clearRequest(): void {
    this.#handler = null;
    this.#req = null;
    this.#paused = false;
    this.#pending = null;
    this.#held = null;
    this.#partial = null;
    this.#decoder = null;
    this.#control = null;
  }

  #destroy(): void {
    if (!this.dead) {
      this.dead = true;
      this.#owner.unusable(this);
    }
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

/**
 * The controller one request gets. It acts on its connection only while that request is the
 * connection's, so a late pause, resume or abort from a finished handler can never reach the next
 * request the kept-alive connection serves.
 */
export class H1RequestControl implements UpstreamController {
  readonly #conn: H1Connection;
  aborted = false;
  reason: Error | null = null;

  constructor(conn: H1Connection) {
    this.#conn = conn;
  }

  get paused(): boolean { return this.#conn.control === this && this.#conn.paused; }

  pause(): void {
    if (this.#conn.control === this) this.#conn.pause();
  }

  resume(): void {
    if (this.#conn.control === this) this.#conn.resume();
  }

  abort(reason: Error): void {
    if (this.#conn.control !== this) return;
    this.aborted = true;
    this.reason = reason;
    this.#conn.abort(reason);
  }
}

/** A thrown parse error is the upstream breaking framing; anything else is passed on as it is. */
function asFailure(err: unknown): Error {
  if (err instanceof HttpParseError) return new UpstreamError(UPSTREAM_PROTOCOL, `invalid response from upstream: ${err.message}`, err);
  return err instanceof Error ? err : new Error(String(err));
}
