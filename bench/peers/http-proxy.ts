/** Comparison peer: http-proxy with a keep-alive http.Agent (256 upstream sockets), as its docs recommend. */
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

interface ProxyServer {
  web(req: IncomingMessage, res: ServerResponse, opts?: object, cb?: (err: Error) => void): void;
}
const httpProxy = createRequire(import.meta.url)('http-proxy') as { createProxyServer(opts: object): ProxyServer };

const { values } = parseArgs({
  options: { port: { type: 'string' }, upstream: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } },
});
const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${values.upstream}`, agent, xfwd: true });
const handle = (req: IncomingMessage, res: ServerResponse) =>
  proxy.web(req, res, {}, () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
const server =
  values.cert && values.key ? createTlsServer({ cert: readFileSync(values.cert), key: readFileSync(values.key) }, handle) : createServer(handle);
server.keepAliveTimeout = 300_000;
server.listen(Number(values.port), '127.0.0.1', 4096, () => process.stdout.write(`listening on ${values.port}\n`));
