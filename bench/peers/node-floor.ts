/**
 * Reference peer: the least a Node proxy built like Ferry can do — node:http in front, an undici Pool
 * (256 connections) driven by `dispatch()` with a raw handler behind, hop-by-hop headers dropped,
 * X-Forwarded-For added, bodies streamed with backpressure — and nothing else: no routing, no
 * metrics, no logs, no timeouts. The distance between this row and Ferry's is what Ferry's features
 * cost; the distance between this row and nginx's is what the Node HTTP stack costs.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Pool, type Dispatcher } from 'undici';

const { values } = parseArgs({
  options: { port: { type: 'string' }, upstream: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } },
});
const pool = new Pool(`http://127.0.0.1:${values.upstream}`, { connections: 256, pipelining: 1 });
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function requestHeaders(req: IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  out.push('x-forwarded-for', req.socket.remoteAddress ?? '');
  return out;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart() {},
    onResponseStart(controller, status, headers) {
      const out: [string, string | string[]][] = [];
      for (const k in headers) if (!HOP.has(k)) out.push([k, headers[k] as string | string[]]);
      res.writeHead(status, out.flat() as string[]);
      res.on('drain', () => controller.resume());
    },
    onResponseData(controller, chunk) {
      if (!res.write(chunk)) controller.pause();
    },
    onResponseEnd() {
      res.end();
    },
    onResponseError(_controller, err) {
      if (!res.headersSent) res.writeHead(502);
      res.end(err.message);
    },
  };
  pool.dispatch({
    method: req.method as Dispatcher.HttpMethod, path: req.url!, headers: requestHeaders(req),
    body: hasBody ? req : null, origin: `http://127.0.0.1:${values.upstream}`,
  }, handler);
}

const server =
  values.cert && values.key ? createTlsServer({ cert: readFileSync(values.cert), key: readFileSync(values.key) }, handle) : createServer(handle);
server.keepAliveTimeout = 300_000;
server.listen(Number(values.port), '127.0.0.1', 4096, () => process.stdout.write(`listening on ${values.port}\n`));
