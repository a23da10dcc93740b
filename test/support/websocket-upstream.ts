/**
 * WebSocket echo upstream (ws): echoes each message back as `<name>: <message>`, and records the
 * upgrade requests it accepted.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { RecordedRequest, Upstream } from './upstreams.ts';

export interface WebSocketEchoOptions {
  /** Prefix of every echoed message; default `ws`. */
  name?: string;
}

export interface WebSocketUpstream extends Upstream {
  /** Sessions currently open. */
  readonly openSessions: number;
}

export async function startWebSocketEchoServer(opts: WebSocketEchoOptions = {}): Promise<WebSocketUpstream> {
  const name = opts.name ?? 'ws';
  const requests: RecordedRequest[] = [];
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('websocket only');
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    requests.push({
      method: req.method ?? 'GET',
      url: req.url ?? '',
      headers: { ...req.headers },
      rawHeaders: [...req.rawHeaders],
      body: Buffer.alloc(0),
      httpVersion: req.httpVersion,
      remotePort: req.socket.remotePort ?? 0,
    });
    ws.on('message', (data, isBinary) => {
      const text = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
      ws.send(isBinary ? Buffer.concat([Buffer.from(`${name}: `), text]) : `${name}: ${text.toString('utf8')}`);
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `ws://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    requests,
    get openSessions() {
      return wss.clients.size;
    },
    close() {
      closing ??= (async () => {
        for (const c of wss.clients) c.terminate();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        await closed;
      })();
      return closing;
    },
  };
}
