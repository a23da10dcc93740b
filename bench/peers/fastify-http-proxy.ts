/** Comparison peer: fastify + @fastify/http-proxy (undici pool of 256 upstream connections), as its docs set it up. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const { values } = parseArgs({
  options: { port: { type: 'string' }, upstream: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' } },
});
const https = values.cert && values.key ? { cert: readFileSync(values.cert), key: readFileSync(values.key) } : null;
const app = (https ? Fastify({ https, keepAliveTimeout: 300_000 }) : Fastify({ keepAliveTimeout: 300_000 })) as unknown as ReturnType<typeof Fastify>;
await app.register(proxy, {
  upstream: `http://127.0.0.1:${values.upstream}`,
  undici: { connections: 256, pipelining: 1, keepAliveTimeout: 300_000 },
});
await app.listen({ host: '127.0.0.1', port: Number(values.port), backlog: 4096 });
process.stdout.write(`listening on ${values.port}\n`);
