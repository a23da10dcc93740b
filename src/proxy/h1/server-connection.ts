/**
 * One HTTP/1.1 client connection: bytes in, request heads parsed, one Exchange per request, strictly
 * one request at a time. Pipelined requests wait in the buffer (the socket stops being read while a
 * request is in progress and more than 64 KiB wait), and the next head is looked at only once the
 * previous request's body has been received in full and its response has been written to the socket.
 * Request bodies (Content-Length or chunked) are pushed into an H1RequestBody with backpressure onto
 * the socket. Heads Ferry cannot accept are refused here (400/417/431/501/505, then close), as are
 * requests too slow to arrive (408); WebSocket upgrades are handed to the tunnel code with the socket,
 * and on cleartext sockets a connection that opens with the HTTP/2 preface goes to the HTTP/2 server.
 * Checking the preface here, on the bytes the connection reads anyway, keeps accepting a connection
 * to one read path and no timer: a separate sniffing step read the first bytes as stream 'data' with
 * a timer of its own, and a connection that was accepted, served one request and closed cost 200–225
 * µs of CPU that way against 165–191 µs this way.
 *
 * Timeouts are timestamps checked by the owner's periodic sweep (H1Connections), never per-request
 * timers. Every socket event handler is bound once per connection, and nothing thrown while serving a
 * request leaves them: the connection is destroyed instead.
 */
import type net from 'node:net';
import { Exchange } from '../http/exchange.ts';
import { handleUpgrade, isWebSocketUpgrade } from '../ws/websocket.ts';
import { ChunkedDecoder } from './chunked.ts';
import { HttpParseError, parseRequestHead, type RequestHead } from './parse.ts';
import { H1Downstream } from './downstream.ts';
import { readThroughSharedBuffer } from './client-reads.ts';
import { H1RequestBody, type BodySource } from './request-body.ts';
import { CONTINUE_100, refusal } from './response-writer.ts';
import type { H1Connections } from './connections.ts';

/** Pipelined bytes allowed to wait while a request is in progress before the socket stops being read. */
const PIPELINE_BUFFER_LIMIT = 64 * 1024;
/** After Ferry ends its side, how long a client may take to close its own before the socket is destroyed. */
const CLOSE_LINGER_MS = 1_000;

const EMPTY = Buffer.alloc(0);

/** What a prior-knowledge HTTP/2 client sends first (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const NOT_PREFACE = 0;
const PART_OF_PREFACE = 1;
const WHOLE_PREFACE = 2;

/** Whether buf[off..] is the HTTP/2 preface, the start of it (more bytes decide), or something else. */
function prefaceAt(buf: Buffer, off: number): number {
  const n = Math.min(buf.length - off, H2_PREFACE.length);
  if (buf.compare(H2_PREFACE, 0, n, off, off + n) !== 0) return NOT_PREFACE;
  return n === H2_PREFACE.length ? WHOLE_PREFACE : PART_OF_PREFACE;
}

const BODY_NONE = 0;
const BODY_LENGTH = 1;
const BODY_CHUNKED = 2;

function expired(now: number, since: number, limitMs: number): boolean {
  return limitMs > 0 && now - since >= limitMs;
}

function afterResponse(conn: H1ServerConnection, res: H1Downstream): void {
  conn.afterResponse(res);
}

export class H1ServerConnection implements BodySource {
  readonly socket: net.Socket;
  /** Read once per connection. */
  readonly clientAddress: string | undefined;
  readonly #owner: H1Connections;
  /** Bytes received and not consumed yet: buf[off..]. */
  #buf: Buffer = EMPTY;
  #off = 0;
  #requests = 0;
  /** The response of the request in progress; null between requests. */
  #current: H1Downstream | null = null;
  #body: H1RequestBody | null = null;
  #bodyState = BODY_NONE;
  #bodyRemaining = 0;
  #decoder: ChunkedDecoder | null = null;
  /** The request in progress has been received in full (head and body). */
  #received = true;
  #keepAlive = true;
  #continuePending = false;
  #readPaused = false;
  /** The client is not reading its responses: the next request waits for the socket to drain. */
  #nextAfterDrain = false;
  /** Ferry ended its side of the connection (or the connection is gone, or was handed to a tunnel). */
  #closing = false;
  #detached = false;
  /** The client shut down its sending side: answer what it asked, then close. */
  #peerEnded = false;
  // Timestamps (Date.now()) for the sweep; 0 when not running.
  /** First byte of the head being received (the connection's start for its first request). */
  #headSince: number;
  /** Start of the request in progress while its body is still being received. */
  #requestSince = 0;
  /** End of the last response while nothing else is buffered. */
  #idleSince = 0;
  #closingSince = 0;

  constructor(owner: H1Connections, socket: net.Socket) {
    this.#owner = owner;
    this.socket = socket;
    this.clientAddress = socket.remoteAddress;
    this.#headSince = Date.now();
    if (!readThroughSharedBuffer(socket, this.#onRead)) socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('drain', this.#onDrain);
    socket.on('close', this.#onClose);
  }

  /**
   * Reads through the shared buffer: served here, or once the socket went to a WebSocket tunnel,
   * pushed into the socket's stream for the tunnel to read as 'data' (false stops reading until it does).
   */
  readonly #onRead = (chunk: Buffer): boolean => {
    if (this.#detached) return this.socket.push(chunk);
    this.#onData(chunk);
    return true;
  };

  // HOT PATH
  readonly #onData = (chunk: Buffer): void => {
    if (this.#closing) return;
    if (this.#off >= this.#buf.length) this.#buf = chunk;
    else this.#buf = Buffer.concat([this.#buf.subarray(this.#off), chunk]);
    this.#off = 0;
    try {
      this.#drive();
    } catch {
      this.socket.destroy();
    }
  };

  /**
   * The client half-closed (listening sockets allow half-open connections, as node:http does): a
   * request being answered still gets its response, with `connection: close`; a body cut short, a
   * partial head or an idle connection ends here.
   */
  readonly #onEnd = (): void => {
    this.#peerEnded = true;
    if (this.#closing) return;
    try {
      if (this.#bodyState !== BODY_NONE) {
        this.socket.destroy();
        return;
      }
      if (this.#current === null && !this.#nextAfterDrain) this.#closeGracefully();
    } catch {
      this.socket.destroy();
    }
  };

  readonly #onDrain = (): void => {
    try {
      if (this.#nextAfterDrain) {
        this.#nextAfterDrain = false;
        if (!this.#closing) this.#next();
        return;
      }
      this.#current?.drained();
    } catch {
      this.socket.destroy();
    }
  };

  readonly #onClose = (): void => {
    this.#closing = true;
    this.#owner.remove(this);
    const res = this.#current;
    this.#current = null;
    // The exchange hears first (it stops its upstream side), then the body reports the abort. The
    // connection is gone either way, so a failure in either must not leave this handler.
    try {
      if (res !== null) { res.kill(); res.notify(); }
    } catch { /* already closed */ }
    try {
      this.#abortBody();
    } catch { /* already closed */ }
  };

  /** Serves what is buffered: body bytes of the request in progress, else the next head. */
  // HOT PATH
  #drive(): void {
    const limits = this.#owner.limits;
    for (;;) {
      if (this.#bodyState !== BODY_NONE) {
        if (this.#off < this.#buf.length) this.#feedBody();
        if (this.#bodyState !== BODY_NONE) return;
      }
      if (this.#closing) return;
      if (this.#current !== null || this.#nextAfterDrain) {
        if (this.#buf.length - this.#off > PIPELINE_BUFFER_LIMIT) this.#pause();
        return;
      }
      const buf = this.#buf;
      if (this.#off >= buf.length) {
        this.#buf = EMPTY;
        this.#off = 0;
        return;
      }
      let head: RequestHead | null = null;
      const preface = this.#requests === 0 && this.#owner.h2c !== null ? prefaceAt(buf, this.#off) : NOT_PREFACE;
      if (preface === WHOLE_PREFACE) return this.#toHttp2();
      if (preface === NOT_PREFACE) {
        try {
          head = parseRequestHead(buf, this.#off, limits.maxHeaderBytes, limits.maxHeadersCount);
        } catch (err) {
          this.#refuse(err instanceof HttpParseError ? err.status : 400);
          return;
        }
      }
      if (head === null) {
        this.#idleSince = 0;
        if (this.#headSince === 0) this.#headSince = Date.now();
        return;
      }
      this.#off = head.end;
      this.#start(head);
      if (this.#detached) return;
    }
  }

  // HOT PATH
  #start(head: RequestHead): void {
    const since = this.#headSince;
    this.#headSince = 0;
    this.#idleSince = 0;
    this.#requests++;
    if (head.upgrade !== null && isWebSocketUpgrade(head.upgrade)) return this.#upgrade(head);
    this.#keepAlive = head.keepAlive;
    let body: H1RequestBody | null = null;
    if (head.chunked) {
      this.#bodyState = BODY_CHUNKED;
      this.#decoder = new ChunkedDecoder();
    } else if (head.contentLength > 0) {
      this.#bodyState = BODY_LENGTH;
      this.#bodyRemaining = head.contentLength;
    }
    if (this.#bodyState !== BODY_NONE) {
      body = new H1RequestBody(this);
      this.#body = body;
      this.#received = false;
      this.#requestSince = since === 0 ? Date.now() : since;
      this.#continuePending = head.expectContinue;
    } else {
      this.#received = true;
    }
    const down = new H1Downstream(this, this.socket, body, head.method === 'HEAD', head.http10);
    this.#current = down;
    const x = new Exchange(this.#owner.sc, down, head.method, head.target, this.clientAddress);
    x.run(head.headers, null, head.http10);
  }

  #upgrade(head: RequestHead): void {
    const early = this.#detach();
    handleUpgrade(this.#owner.sc, head.method, head.target, head.headers, this.socket, early, this.clientAddress);
  }

  /** The connection opened with the HTTP/2 preface: the HTTP/2 server reads it from the first byte. */
  #toHttp2(): void {
    const early = this.#detach();
    this.socket.unshift(early);
    this.#owner.h2c!(this.socket);
  }

  /** Lets go of the socket, paused: whatever the client sends next waits in it for the new owner. Returns the bytes read and not consumed. */
  #detach(): Buffer {
    const socket = this.socket;
    this.#detached = true;
    this.#closing = true;
    this.#owner.remove(this);
    socket.off('data', this.#onData);
    socket.off('end', this.#onEnd);
    socket.off('drain', this.#onDrain);
    socket.off('close', this.#onClose);
    socket.pause();
    const early = this.#off < this.#buf.length ? this.#buf.subarray(this.#off) : EMPTY;
    this.#buf = EMPTY;
    this.#off = 0;
    return early;
  }

  /** Hands buffered bytes of the request in progress to its body. */
  // HOT PATH
  #feedBody(): void {
    const buf = this.#buf;
    const off = this.#off;
    if (this.#bodyState === BODY_LENGTH) {
      const n = Math.min(this.#bodyRemaining, buf.length - off);
      this.#off = off + n;
      this.#bodyRemaining -= n;
      this.#push(off === 0 && n === buf.length ? buf : buf.subarray(off, off + n));
      if (this.#bodyRemaining === 0) this.#endBody();
      return;
    }
    let end: number;
    try {
      end = this.#decoder!.decode(buf, off, this.#push);
    } catch (err) {
      return this.#failRequest(err instanceof HttpParseError ? err.status : 400);
    }
    if (end < 0) {
      this.#off = buf.length;
      return;
    }
    this.#off = end;
    this.#endBody();
  }

  // HOT PATH
  readonly #push = (chunk: Buffer): void => {
    const body = this.#body;
    if (body !== null && !body.push(chunk)) this.#pause();
  };

  #endBody(): void {
    const body = this.#body!;
    this.#body = null;
    this.#bodyState = BODY_NONE;
    this.#decoder = null;
    this.#received = true;
    this.#requestSince = 0;
    this.#continuePending = false;
    body.push(null);
    if (this.#readPaused) this.#resume();
  }

  /** The client went away (or broke the framing) before the body was complete. */
  #abortBody(): void {
    const body = this.#body;
    if (body === null) return;
    this.#body = null;
    this.#bodyState = BODY_NONE;
    this.#decoder = null;
    body.abort();
  }

  /** BodySource: the body's reader wants more. */
  onBodyRead(): void {
    if (this.#bodyState === BODY_NONE) return;
    if (this.#continuePending) {
      this.#continuePending = false;
      if (this.#current !== null && !this.#current.headersSent) this.socket.write(CONTINUE_100);
    }
    if (this.#readPaused) this.#resume();
  }

  #pause(): void {
    if (this.#readPaused) return;
    this.#readPaused = true;
    this.socket.pause();
  }

  #resume(): void {
    if (!this.#readPaused) return;
    this.#readPaused = false;
    this.socket.resume();
  }

  /** Whether the connection must close after the response being started. */
  mustClose(): boolean {
    const max = this.#owner.limits.maxRequestsPerSocket;
    return !this.#keepAlive || !this.#received || this.#peerEnded || this.#owner.sc.draining || (max > 0 && this.#requests >= max);
  }

  /** The response of the request in progress has been written to the socket in full. */
  // HOT PATH
  responseDone(res: H1Downstream): void {
    if (res.closing || this.#owner.sc.draining) this.#closeAfterResponse();
    else if (this.#off >= this.#buf.length) this.#idleSince = Date.now();
    // The exchange learns that its response is over, and the next request starts, once the caller is done.
    process.nextTick(afterResponse, this, res);
  }

  afterResponse(res: H1Downstream): void {
    try {
      if (this.#current === res) this.#current = null;
      res.notify();
      if (this.#closing) return;
      // Pipelined requests are not answered faster than the client reads the answers.
      if (this.socket.writableNeedDrain) this.#nextAfterDrain = true;
      else this.#next();
    } catch {
      this.socket.destroy();
    }
  }

  /** Goes on with the next request, if any is buffered. */
  #next(): void {
    this.#resume();
    this.#drive();
  }

  /**
   * The request in progress cannot go on (its body is too slow or badly framed): answer `status` if
   * its response has not started, else cut the connection.
   */
  #failRequest(status: number): void {
    const res = this.#current;
    if (res === null || res.headersSent) {
      this.#abortBody();
      this.socket.destroy();
      return;
    }
    this.#current = null;
    res.kill();
    res.notify();
    this.#refuse(status);
  }

  /** Answers `status` with `connection: close` and closes. */
  #refuse(status: number): void {
    if (this.#closing) return;
    this.socket.write(refusal(status));
    this.#closeGracefully();
  }

  /**
   * The response that ends the connection is written. When the client said it sends nothing more
   * (`Connection: close`, an HTTP/1.0 request without keep-alive, or its own FIN), its request was
   * read in full, nothing of it waits unread and the response is all in the kernel, the socket is
   * closed at once: the kernel sends the response, then FIN. Otherwise Ferry half-closes and reads
   * on until the client closes (RFC 9112 §9.6), so a close with unread bytes cannot reset the
   * connection before the client has read its response.
   */
  #closeAfterResponse(): void {
    if (this.#closing) return;
    const clientDone = !this.#keepAlive || this.#peerEnded;
    if (clientDone && this.#received && this.#off >= this.#buf.length && this.socket.writableLength === 0) {
      this.#closing = true;
      this.#buf = EMPTY;
      this.#off = 0;
      this.socket.destroy();
      return;
    }
    this.#closeGracefully();
  }

  /** Ends Ferry's side; the client's FIN (or the sweep, after a short linger) completes the close. */
  #closeGracefully(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#closingSince = Date.now();
    this.#abortBody();
    this.#buf = EMPTY;
    this.#off = 0;
    this.socket.end();
    // Keep reading (and discarding) so the client's FIN is seen.
    this.#resume();
  }

  /** Drain: a connection with no request in progress closes now; the others close after their response. */
  closeIfIdle(): void {
    if (this.#current === null && this.#off >= this.#buf.length) this.socket.destroy();
  }

  /** The periodic timeout check; a limit of 0 is no limit (as in node:http). */
  sweep(now: number): void {
    if (this.#detached) return;
    if (this.socket.destroyed) return this.#onClose();
    if (this.#closing) {
      if (now - this.#closingSince >= CLOSE_LINGER_MS) this.socket.destroy();
      return;
    }
    const limits = this.#owner.limits;
    if (this.#current !== null) {
      if (!this.#received && expired(now, this.#requestSince, limits.requestTimeoutMs)) this.#failRequest(408);
      return;
    }
    if (this.#idleSince !== 0) {
      if (expired(now, this.#idleSince, limits.keepAliveTimeoutMs)) this.socket.destroy();
      return;
    }
    if (this.#headSince !== 0 && expired(now, this.#headSince, limits.headersTimeoutMs)) this.#refuse(408);
  }
}
