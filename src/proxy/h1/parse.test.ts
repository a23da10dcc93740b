import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpParseError, parseRequestHead, parseResponseHead } from './parse.ts';

const req = (s: string) => parseRequestHead(Buffer.from(s, 'latin1'), 0, 16_384, 100);
const res = (s: string) => parseResponseHead(Buffer.from(s, 'latin1'), 0, 65_536, 100);

function refused(s: string, status: number, code?: string): void {
  assert.throws(() => req(s), (e: unknown) => {
    assert.ok(e instanceof HttpParseError, `${JSON.stringify(s)} threw ${String(e)}`);
    assert.equal(e.status, status, JSON.stringify(s));
    if (code !== undefined) assert.equal(e.code, code, JSON.stringify(s));
    return true;
  }, JSON.stringify(s));
}

test('a request head: method, target, version, fields lower-cased and trimmed, offsets', () => {
  const buf = Buffer.from('GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Thing: \t v \t\r\nEmpty:\r\n\r\nNEXT');
  const h = parseRequestHead(buf, 0, 16_384, 100)!;
  assert.equal(h.method, 'GET');
  assert.equal(h.target, '/a?b=1');
  assert.equal(h.http10, false);
  assert.deepEqual(h.headers, ['host', 'example.com', 'x-thing', 'v', 'empty', '']);
  assert.equal(buf.toString('latin1', h.end), 'NEXT');
  assert.equal(h.contentLength, -1);
  assert.equal(h.chunked, false);
  assert.equal(h.keepAlive, true);
  assert.equal(h.upgrade, null);
  assert.equal(h.expectContinue, false);
  assert.deepEqual(req('GET / HTTP/1.1\r\nhost: a\r\nX-Mixed-Case: b\r\n\r\n')!.headers, ['host', 'a', 'x-mixed-case', 'b']);
});

test('field names are lower-cased whether or not they are common ones, and near misses stay as sent', () => {
  const names = ['CONTENT-LENGTH', 'Content-Type', 'cOnNeCtIoN', 'X-Forwarded-For', 'TE', 'Via', 'Content_Type', 'Content-Typf',
    'Content-Types', 'Hos', 'X-Request-ID', 'Accept^', 'Acceptx', '~ccept', 'Set-Cookie', 'Set-Cookie2'];
  const head = 'GET / HTTP/1.1\r\n' + names.map((n, i) => `${n}: ${i === 0 ? '0' : 'v'}\r\n`).join('') + '\r\n';
  const fields = req(head)!.headers.filter((_, i) => i % 2 === 0);
  assert.deepEqual(fields, names.map((n) => n.toLowerCase()));
});

test('an incomplete head is null; leading empty lines are skipped; a start offset is honoured', () => {
  assert.equal(req('GET / HTTP/1.1\r\nHost: a\r\n'), null);
  assert.equal(req('GET / HTTP/1.1\r\nHost: a\r\n\r'), null);
  assert.equal(req(''), null);
  assert.equal(req('\r\n\r\n'), null);
  assert.equal(req('\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n')!.target, '/');
  const two = Buffer.from('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
  const first = parseRequestHead(two, 0, 1000, 10)!;
  assert.equal(parseRequestHead(two, first.end, 1000, 10)!.target, '/2');
});

test('framing: Content-Length, chunked, keep-alive by version and Connection, upgrade, expect', () => {
  assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n')!.contentLength, 12);
  assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n')!.chunked, true);
  assert.equal(req('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')!.keepAlive, false);
  assert.equal(req('GET / HTTP/1.0\r\n\r\n')!.keepAlive, false);
  assert.equal(req('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n')!.keepAlive, true);
  assert.equal(req('GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n')!.keepAlive, false);
  assert.equal(req('GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n')!.upgrade, 'websocket');
  assert.equal(req('GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n')!.upgrade, null);
  assert.equal(req('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n')!.expectContinue, true);
  refused('POST / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n', 417);
});

test('smuggling and malformed heads are refused (the cases llhttp refuses, and the ones it lets through)', () => {
  const cases: [string, number][] = [
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 400], // CL + TE
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 400], // duplicate CL
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +2\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x2\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n', 501],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n', 501],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n', 501],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n', 400],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', 400], // TE on HTTP/1.0
    ['GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400], // space before colon
    ['GET / HTTP/1.1\r\nHost:\ta\r\nX: a\r\n b\r\n\r\n', 400], // obs-fold
    ['GET / HTTP/1.1\r\nHost: a\r\n\tb\r\n\r\n', 400],
    ['GET / HTTP/1.1\nHost: a\r\n\r\n', 400], // bare LF
    ['GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n', 400], // bare CR
    ['GET / HTTP/1.1\r\nHost: a\r\n\rX: b\r\n\r\n', 400], // \r\n\rX
    ['GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n', 400], // NUL
    ['GET / HTTP/1.1\r\nHost: a\x7fb\r\n\r\n', 400], // DEL
    ['GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n', 400], // empty name
    ['GET / HTTP/1.1\r\nHo(st: a\r\n\r\n', 400],
    ['GET / HTTP/1.1\r\nHost\r\n\r\n', 400],
    ['get / HTTP/1.1\r\nHost: a\r\n\r\n', 400], // lower-case method
    [' GET / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['GET / HTTP/1.1 \r\nHost: a\r\n\r\n', 400],
    ['GET /\r\nHost: a\r\n\r\n', 400], // no version
    ['GET / HTTP/1.1x\r\nHost: a\r\n\r\n', 400],
    ['GET / http/1.1\r\nHost: a\r\n\r\n', 400],
    ['GET /a b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ['GET / HTTP/1.2\r\nHost: a\r\n\r\n', 505],
    ['GET / HTTP/1.1\n\n', 400], // LF-only head, refused before it is complete
    ['\r\n'.repeat(5) + 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 400], // endless empty lines would never hit the size limit
  ];
  for (const [s, status] of cases) refused(s, status);
});

test('size and count limits give 431, complete or not', () => {
  const many = 'GET / HTTP/1.1\r\n' + Array.from({ length: 101 }, (_, i) => `x-${i}: v\r\n`).join('') + '\r\n';
  refused(many, 431, 'ERR_H1_TOO_MANY_HEADERS');
  const big = 'GET / HTTP/1.1\r\nx: ' + 'a'.repeat(20_000) + '\r\n\r\n';
  refused(big, 431, 'ERR_H1_HEAD_TOO_LARGE');
  refused('GET / HTTP/1.1\r\nx: ' + 'a'.repeat(20_000), 431, 'ERR_H1_HEAD_TOO_LARGE');
});

test('a response head: status, fields, framing', () => {
  const h = res('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-A: b\r\n\r\nabc')!;
  assert.equal(h.status, 200);
  assert.deepEqual(h.headers, ['content-length', '3', 'x-a', 'b']);
  assert.equal(h.contentLength, 3);
  assert.equal(h.end, h.end);
  assert.equal(h.keepAlive, true);
  assert.equal(res('HTTP/1.1 204\r\n\r\n')!.status, 204);
  assert.equal(res('HTTP/1.1 200 \r\n\r\n')!.status, 200);
  assert.equal(res('HTTP/1.0 200 OK\r\n\r\n')!.keepAlive, false);
  assert.equal(res('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n')!.keepAlive, false);
  const ch = res('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n')!;
  assert.equal(ch.chunked, true);
  const cd = res('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n')!;
  assert.equal(cd.closeDelimited, true);
  assert.equal(cd.keepAlive, false);
  assert.equal(res('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n'), null);
});

test('invalid response heads are refused', () => {
  for (const s of [
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n',
    'HTTP/1.1 200 OK\nContent-Length: 3\r\n\r\n',
    'HTTP/1.1 2000 OK\r\n\r\n',
    'HTTP/1.1 600 OK\r\n\r\n',
    'HTTP/1.1 20 OK\r\n\r\n',
    'HTTP/1.1 200 O\x00K\r\n\r\n',
    'HTTP/1.1 200 OK\r\nSet-Cookie: a\r\n\r\nb\r\n\r\n'.replace('a\r\n\r\n', 'a\r\nX: y\rZ\r\n\r\n'),
    'ICY 200 OK\r\n\r\n',
  ]) {
    assert.throws(() => res(s), HttpParseError, JSON.stringify(s));
  }
});

test('smuggler-style mutations around Transfer-Encoding never leave framing and forwarded fields disagreeing', () => {
  // The gadget families of defparam/smuggler: every byte 0x00–0xff before the name, between name and
  // colon, after the colon, inside and after the value, with and without a Content-Length beside it.
  const placements = [
    (b: string) => `${b}Transfer-Encoding: chunked`,
    (b: string) => `Transfer-Encoding${b}: chunked`,
    (b: string) => `Transfer-Encoding:${b}chunked`,
    (b: string) => `Transfer-Encoding: ${b}chunked`,
    (b: string) => `Transfer-Encoding: chun${b}ked`,
    (b: string) => `Transfer-Encoding: chunked${b}`,
    (b: string) => `Transfer${b}Encoding: chunked`,
  ];
  let tried = 0;
  let accepted = 0;
  for (const withLength of [false, true]) {
    for (const place of placements) {
      for (let c = 0; c < 256; c++) {
        const line = place(String.fromCharCode(c));
        const wire = `POST / HTTP/1.1\r\nHost: a\r\n${withLength ? 'Content-Length: 5\r\n' : ''}${line}\r\n\r\n`;
        tried++;
        let h;
        try { h = req(wire); } catch (e) { assert.ok(e instanceof HttpParseError, JSON.stringify(wire)); continue; }
        assert.ok(h !== null, JSON.stringify(wire));
        accepted++;
        const names = h.headers.filter((_, i) => i % 2 === 0);
        const te = names.filter((n) => n === 'transfer-encoding').length;
        const cl = names.filter((n) => n === 'content-length').length;
        assert.ok(!(te > 0 && cl > 0), `CL and TE both accepted: ${JSON.stringify(wire)}`);
        assert.equal(h.chunked, te === 1, `framing disagrees with the fields: ${JSON.stringify(wire)}`);
        if (te === 1) assert.equal(h.headers[h.headers.indexOf('transfer-encoding') + 1].toLowerCase(), 'chunked', JSON.stringify(wire));
        assert.equal(h.contentLength, cl === 1 ? 5 : -1, JSON.stringify(wire));
        for (const n of names) assert.match(n, /^[!#$%&'*+\-.^_`|~0-9a-z]+$/, JSON.stringify(wire));
      }
    }
  }
  assert.equal(tried, 2 * 7 * 256);
  assert.ok(accepted > 0 && accepted < tried);
});
