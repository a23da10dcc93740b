/**
 * Real upstream servers for tests, on 127.0.0.1 port 0: an HTTP/1.1 echo server, the same over
 * cleartext HTTP/2, a server that never answers, and a port where nothing listens. Every server
 * records what it received. WebSocket and gRPC upstreams live in their own files and are re-exported.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export { startWebSocketEchoServer } from './websocket-upstream.ts';
export type { WebSocketUpstream, WebSocketEchoOptions } from './websocket-upstream.ts';
export { startGrpcServer, createGrpcClient } from './grpc-upstream.ts';
export type { GrpcUpstream, GrpcServerOptions, GrpcTestClient, GrpcClientOptions } from './grpc-upstream.ts';

/** One request as the upstream saw it. */
export interface RecordedRequest {
  method: string;
  /** Raw request target as received (`:path` for HTTP/2). */
  url: string;
  /** Lower-case header names (HTTP/2 pseudo-headers such as `:authority` included). */
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  /** Filled in when the body has been read completely. */
  body: Buffer;
  /** `1.1`, `1.0` or `2.0`. */
  httpVersion: string;
  remotePort: number;
}

export interface Upstream {
  /** `http://127.0.0.1:<port>` (`ws://` for WebSocket servers). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;
type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;

export interface EchoServerOptions {
  /** Reported as `name` in every answer (and the `x-echo-name` header): which copy answered. */
  name?: string;
  /** Status of every answer; default 200. */
  status?: number;
  /** Delay before answering, after the body has been read. */
  delayMs?: number;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** HTTP/1.1 keep-alive timeout of the server. */
  keepAliveTimeoutMs?: number;
  /**
   * Called after the request has been recorded and its body read; return true when it has answered
   * (or will answer) itself, false to let the echo answer.
   */
  handler?: (req: AnyRequest, res: AnyResponse, body: Buffer) => boolean;
}

/** The JSON body the echo servers answer with. */
export interface EchoReply {
  name: string;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  httpVersion: string;
}

const HOST = '127.0.0.1';

function record(req: AnyRequest): RecordedRequest {
  return {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: { ...req.headers } as http.IncomingHttpHeaders,
    rawHeaders: [...req.rawHeaders],
    body: Buffer.alloc(0),
    httpVersion: req.httpVersion,
    remotePort: req.socket?.remotePort ?? 0,
  };
}

function readBody(req: AnyRequest, rec: RecordedRequest, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    rec.body = Buffer.concat(chunks);
    done(rec.body);
  });
}

function echoHandler(opts: EchoServerOptions, requests: RecordedRequest[], timers: Set<NodeJS.Timeout>) {
  const name = opts.name ?? 'echo';
  const status = opts.status ?? 200;
  return (req: AnyRequest, res: AnyResponse): void => {
    const rec = record(req);
    requests.push(rec);
    readBody(req, rec, (body) => {
      if (opts.handler?.(req, res, body)) return;
      const reply: EchoReply = {
        name,
        method: rec.method,
        url: rec.url,
        headers: rec.headers,
        body: body.toString('utf8'),
        httpVersion: rec.httpVersion,
      };
      const payload = JSON.stringify(reply);
      const answer = () => {
        if (res.destroyed) return;
        // Both response kinds take (status, headers); the union of their overloads does not type.
        (res as http.ServerResponse).writeHead(status, {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(payload)),
          'x-echo-name': name,
          ...opts.headers,
        });
        (res as http.ServerResponse).end(payload);
      };
      if (!opts.delayMs) return answer();
      const t = setTimeout(() => {
        timers.delete(t);
        answer();
      }, opts.delayMs);
      timers.add(t);
    });
  };
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function onceClosed(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function trackSockets(server: net.Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

/** HTTP/1.1 server answering every request with an `EchoReply` JSON body. */
export async function startEchoServer(opts: EchoServerOptions = {}): Promise<Upstream> {
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer(echoHandler(opts, requests, timers));
  if (opts.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = opts.keepAliveTimeoutMs;
  const sockets = trackSockets(server);
  const port = await listen(server);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${HOST}:${port}`,
    host: HOST,
    port,
    requests,
    close() {
      closing ??= (async () => {
        for (const t of timers) clearTimeout(t);
        const closed = onceClosed(server);
        for (const s of sockets) s.destroy();
        await closed;
      })();
      return closing;
    },
  };
}

/** Cleartext HTTP/2 (prior knowledge) echo server; records `:path` as url and `:authority` in headers. */
export async function startH2cEchoServer(opts: EchoServerOptions = {}): Promise<Upstream> {
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http2.createServer(echoHandler(opts, requests, timers));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  const sockets = trackSockets(server);
  const port = await listen(server);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${HOST}:${port}`,
    host: HOST,
    port,
    requests,
    close() {
      closing ??= (async () => {
        for (const t of timers) clearTimeout(t);
        const closed = onceClosed(server);
        for (const s of sessions) s.destroy();
        for (const s of sockets) s.destroy();
        await closed;
      })();
      return closing;
    },
  };
}

export interface HangingUpstream extends Upstream {
  /** Requests received and neither answered nor closed by the client. */
  readonly openRequests: number;
  /** Connections currently open. */
  readonly openConnections: number;
}

/** HTTP/1.1 server that records requests and never answers them; close() destroys every connection. */
export async function startHangingServer(): Promise<HangingUpstream> {
  const requests: RecordedRequest[] = [];
  let open = 0;
  const server = http.createServer((req, res) => {
    const rec = record(req);
    requests.push(rec);
    open++;
    res.on('close', () => open--);
    readBody(req, rec, () => {});
  });
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  const sockets = trackSockets(server);
  const port = await listen(server);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${HOST}:${port}`,
    host: HOST,
    port,
    requests,
    get openRequests() {
      return open;
    },
    get openConnections() {
      return sockets.size;
    },
    close() {
      closing ??= (async () => {
        const closed = onceClosed(server);
        for (const s of sockets) s.destroy();
        await closed;
      })();
      return closing;
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (bound on port 0, then closed). */
export async function refusedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await onceClosed(server);
  return port;
}
