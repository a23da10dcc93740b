/** Idle keep-alive client for the memory scenario: opens N connections in batches, one request each, then holds them. */
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { port: { type: 'string' }, count: { type: 'string', default: '10000' }, batch: { type: 'string', default: '500' }, path: { type: 'string', default: '/' } },
});
const port = Number(values.port);
const count = Number(values.count);
const batch = Number(values.batch);
const request = `GET ${values.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
const sockets: Socket[] = [];
let failed = 0;

/** Open one connection, send one request, resolve once the response headers arrive; keep the socket. */
function open(): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      if (ok) sockets.push(s);
      else { failed++; s.destroy(); }
      resolve();
    };
    s.setTimeout(10_000, () => finish(false));
    s.once('connect', () => s.write(request));
    s.on('data', (b) => { if (b.includes('\r\n\r\n')) { s.setTimeout(0); finish(true); } });
    s.once('error', () => finish(false));
    s.once('close', () => finish(false));
  });
}

for (let i = 0; i < count; i += batch) {
  await Promise.all(Array.from({ length: Math.min(batch, count - i) }, open));
}
let open_ = sockets.length;
for (const s of sockets) s.once('close', () => open_--);
process.stdout.write(`READY ${sockets.length} ${failed}\n`);
// hold them until SIGTERM; say every second how many are still open (the server may close idle ones)
setInterval(() => process.stdout.write(`OPEN ${open_}\n`), 1000);
