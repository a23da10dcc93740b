import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Snapshot } from '../../src/snapshot/index.ts';
import { buildSnapshot, echoUpstream, endpoints, request, selfSigned, startProxy, type Seen } from './proxy-harness.ts';

function h2request(client: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string): Promise<{ headers: http2.IncomingHttpHeaders; body: string; trailers: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = client.request(headers, { endStream: body === undefined });
    let res: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    let data = '';
    req.on('response', (h) => { res = h; });
    req.on('trailers', (h) => { trailers = h; });
    req.on('data', (c) => { data += c; });
    req.on('end', () => resolve({ headers: res, body: data, trailers }));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
  });
}

test('h2c with prior knowledge and HTTP/1.1 share one port; HTTP/2 → HTTP/1.1 upstream translation', async (t) => {
  const up = await echoUpstream(t);
  const { port } = await startProxy(t, buildSnapshot({ routes: [{}] }), endpoints({ b: [up.port] }));
  const client = http2.connect(`http://127.0.0.1:${port}`);
  t.after(() => client.close());
  const r = await h2request(client, { ':method': 'POST', ':path': '/h2/../x?y=1', ':authority': 'Api.Example:8080', cookie: 'a=1', 'x-h': 'v' }, 'hello');
  assert.equal(r.headers[':status'], 200);
  const seen = JSON.parse(r.body) as Seen;
  assert.equal(seen.url, '/x?y=1');
  assert.equal(seen.method, 'POST');
  assert.equal(seen.body, 'hello');
  assert.equal(seen.headers.host, 'Api.Example:8080');
  assert.equal(seen.headers.via, '2 ferry');
  assert.equal(seen.headers['x-h'], 'v');
  assert.ok(r.headers['x-request-id']);
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => h2request(client, { ':path': `/m/${i}` })));
  assert.deepEqual(many.map((m) => (JSON.parse(m.body) as Seen).url), Array.from({ length: 20 }, (_, i) => `/m/${i}`));
  assert.equal((await request(port, { path: '/h1' })).status, 200);
});

/** A TCP relay to `port` that passes the first `trickle` bytes its client sends one per write, each written before the next is read. */
async function tricklingRelay(t: TestContext, port: number, trickle: number): Promise<number> {
  const net = await import('node:net');
  const open = new Set<import('node:net').Socket>();
  const server = net.createServer((client) => {
    const up = net.connect(port, '127.0.0.1');
    open.add(client).add(up);
    up.setNoDelay(true);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    up.pipe(client);
    const write = (b: Buffer) => new Promise<void>((resolve) => up.write(b, () => resolve()));
    void (async () => {
      let sent = 0;
      for await (const chunk of client as AsyncIterable<Buffer>) {
        let at = 0;
        while (sent < trickle && at < chunk.length) { await write(chunk.subarray(at, at + 1)); at++; sent++; }
        if (at < chunk.length) await write(chunk.subarray(at));
      }
      up.end();
    })().catch(() => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { server.close(() => resolve()); for (const s of open) s.destroy(); }));
  return (server.address() as AddressInfo).port;
}

test('h2c: a preface that arrives a byte at a time still opens an HTTP/2 connection', async (t) => {
  const up = await echoUpstream(t);
  const { port } = await startProxy(t, buildSnapshot({ routes: [{}] }), endpoints({ b: [up.port] }));
  const relay = await tricklingRelay(t, port, 30);
  const client = http2.connect(`http://127.0.0.1:${relay}`);
  t.after(() => client.destroy());
  const r = await h2request(client, { ':method': 'POST', ':path': '/trickle' }, 'body');
  assert.equal(r.headers[':status'], 200);
  const seen = JSON.parse(r.body) as Seen;
  assert.equal(seen.url, '/trickle');
  assert.equal(seen.body, 'body');
});

test('HTTP/2 client: repeated upstream response fields stay separate fields, with their values and order', async (t) => {
  const up = http.createServer((_req, res) => {
    res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2']);
    res.setHeader('X-Multi', ['one', 'two, three']);
    res.setHeader('Content-Type', 'text/plain');
    res.end('ok');
  });
  await new Promise<void>((resolve) => up.listen(0, '127.0.0.1', resolve));
  t.after(() => up.close());
  const { port } = await startProxy(t, buildSnapshot({ routes: [{}] }), endpoints({ b: [(up.address() as AddressInfo).port] }));
  const client = http2.connect(`http://127.0.0.1:${port}`);
  t.after(() => client.close());
  const raw = await new Promise<string[]>((resolve, reject) => {
    const req = client.request({ ':path': '/' });
    req.on('response', (_h, _flags, rawHeaders: string[]) => resolve(rawHeaders));
    req.on('error', reject);
    req.resume();
  });
  const fields = (name: string) => raw.flatMap((v, i) => (i % 2 === 0 && v === name ? [raw[i + 1]] : []));
  assert.deepEqual(raw.slice(0, 2), [':status', '200']);
  assert.deepEqual(fields('set-cookie'), ['a=1; Path=/', 'b=2']);
  assert.deepEqual(fields('x-multi'), ['one', 'two, three']);
  assert.deepEqual(fields('content-type'), ['text/plain']);
  assert.equal(fields('date').length, 1);
});

test('HTTP/1.1 client → h2c upstream', async (t) => {
  const upstream = http2.createServer();
  upstream.on('stream', (stream, headers) => {
    let body = '';
    stream.on('data', (c) => (body += c));
    stream.on('end', () => {
      stream.respond({ ':status': 201, 'x-authority': String(headers[':authority']) });
      stream.end(`${headers[':method']} ${headers[':path']} ${body}`);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.after(() => upstream.close());
  const snap = buildSnapshot({ routes: [{}], backends: { b: 'h2c' } });
  const { port } = await startProxy(t, snap, endpoints({ b: [(upstream.address() as AddressInfo).port] }));
  const r = await request(port, { method: 'PUT', path: '/up?x=1', body: 'data', headers: { host: 'svc.local', connection: 'keep-alive' } });
  assert.equal(r.status, 201);
  assert.equal(r.body, 'PUT /up?x=1 data');
  assert.equal(r.headers['x-authority'], 'svc.local');
});

function twoListenerTls(certA: { certPem: string; keyPem: string }, certB: { certPem: string; keyPem: string }, minB: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.2'): Snapshot {
  const base = buildSnapshot({ routes: [{}], protocol: 'HTTPS', listenerHostname: 'a.example', listenerPort: 443,
    tls: { minVersion: 'TLSv1.2', certificates: [{ secret: 'default/a', ...certA, serverNames: ['a.example'] }] } });
  const la = base.sockets[0].listeners[0];
  const lb = { ...la, id: 'default/gw/b', name: 'b', hostname: '*.b.example',
    tls: { minVersion: minB, certificates: [{ secret: 'default/b', ...certB, serverNames: ['*.b.example'] }] } };
  return { ...base, sockets: [{ ...base.sockets[0], listeners: [la, lb] }] };
}

async function peerCn(port: number, servername: string, extra: tls.ConnectionOptions = {}): Promise<{ cn: string; alpn: string | false | null; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'], ...extra }, () => {
      const cert = s.getPeerCertificate();
      resolve({ cn: String(cert.subject?.CN), alpn: s.alpnProtocol, protocol: s.getProtocol() });
      s.end();
    });
    s.on('error', reject);
  });
}

async function tlsProxy(t: TestContext, minB: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.2') {
  const up = await echoUpstream(t);
  const certA = selfSigned(['a.example']);
  const certB = selfSigned(['*.b.example']);
  const { port } = await startProxy(t, twoListenerTls(certA, certB, minB), endpoints({ b: [up.port] }));
  return { port, certA, certB, up };
}

test('HTTPS: SNI chooses the certificate, ALPN h2 and http/1.1, X-Forwarded-Proto https', async (t) => {
  const { port, certA, certB } = await tlsProxy(t);
  assert.deepEqual(await peerCn(port, 'a.example'), { cn: 'a.example', alpn: 'h2', protocol: 'TLSv1.3' });
  assert.equal((await peerCn(port, 'x.b.example')).cn, '*.b.example');
  assert.equal((await peerCn(port, 'unknown.example')).cn, 'a.example', 'default certificate');

  const client = http2.connect(`https://127.0.0.1:${port}`, { servername: 'x.b.example', ca: certB.certPem, checkServerIdentity: () => undefined });
  t.after(() => client.close());
  const r = await h2request(client, { ':path': '/secure', ':authority': 'x.b.example' });
  assert.equal(r.headers[':status'], 200);
  const seen = JSON.parse(r.body) as Seen;
  assert.equal(seen.headers['x-forwarded-proto'], 'https');
  assert.equal(seen.headers['x-forwarded-port'], '443');

  const h1 = await new Promise<{ status: number; body: string; alpn: string | false | null }>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/one', servername: 'a.example', ca: certA.certPem, checkServerIdentity: () => undefined, ALPNProtocols: ['http/1.1'], headers: { host: 'a.example' } } as https.RequestOptions, (res) => {
      let body = '';
      const alpn = (res.socket as tls.TLSSocket).alpnProtocol;
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, alpn }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(h1.status, 200);
  assert.equal(h1.alpn, 'http/1.1');
});

test('HTTPS: TLS 1.2 offers only ECDHE AEAD ciphers; a TLS 1.3-only listener refuses TLS 1.2', async (t) => {
  const { port } = await tlsProxy(t, 'TLSv1.3');
  const t12 = await peerCn(port, 'a.example', { maxVersion: 'TLSv1.2' });
  assert.equal(t12.protocol, 'TLSv1.2');
  await assert.rejects(peerCn(port, 'a.example', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }));
  await assert.rejects(peerCn(port, 'x.b.example', { maxVersion: 'TLSv1.2' }).then((r) => {
    // The handshake may complete before the server closes; a request must not succeed.
    if (r.protocol === 'TLSv1.2') throw new Error('closed after handshake');
    return r;
  }));
  assert.equal((await peerCn(port, 'x.b.example')).protocol, 'TLSv1.3');
});

test('HTTP/2: :authority and a conflicting Host header are refused; an agreeing one is fine', async (t) => {
  const up = await echoUpstream(t);
  const { port } = await startProxy(t, buildSnapshot({ routes: [{}] }), endpoints({ b: [up.port] }));
  const client = http2.connect(`http://127.0.0.1:${port}`);
  t.after(() => client.close());
  assert.equal((await h2request(client, { ':path': '/', ':authority': 'a.example', host: 'b.example' })).headers[':status'], 400);
  assert.equal((await h2request(client, { ':path': '/', ':authority': 'a.example', host: 'A.example' })).headers[':status'], 200);
});

test('h2c upstream: refused connection is 502, and a GOAWAY from the upstream leads to a reconnect', async (t) => {
  const sessions = new Set<http2.ServerHttp2Session>();
  const upstream = http2.createServer();
  upstream.on('session', (s) => sessions.add(s));
  upstream.on('stream', (stream) => { stream.respond({ ':status': 200 }); stream.end(`session ${sessions.size}`); });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.after(() => { for (const s of sessions) s.destroy(); upstream.close(); });
  const net = await import('node:net');
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const deadPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const snap = buildSnapshot({
    backends: { b: 'h2c', dead: 'h2c' },
    routes: [{ path: { type: 'PathPrefix', value: '/dead' }, backends: [{ id: 'dead' }] }, {}],
  });
  const { port } = await startProxy(t, snap, endpoints({ b: [(upstream.address() as AddressInfo).port], dead: [deadPort] }));
  const dead = await request(port, { path: '/dead' });
  assert.equal(dead.status, 502);
  assert.match(dead.body, /upstream connect error/);
  assert.equal((await request(port)).body, 'session 1');
  assert.equal((await request(port)).body, 'session 1');
  for (const s of sessions) s.goaway();
  const { eventually } = await import('./proxy-harness.ts');
  await eventually(async () => (await request(port)).body === 'session 2');
});
