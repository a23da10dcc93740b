import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkedDecoder } from './chunked.ts';
import { HttpParseError } from './parse.ts';

/** Decodes `parts` fed one buffer at a time; returns the body, the end offset in the last part, and the trailers. */
function decodeParts(parts: string[]): { body: string; end: number; trailers: string[] } {
  const d = new ChunkedDecoder();
  let body = '';
  let end = -1;
  for (const p of parts) {
    assert.equal(end, -1, 'data after the end');
    end = d.decode(Buffer.from(p, 'latin1'), 0, (c) => { body += c.toString('latin1'); });
  }
  return { body, end, trailers: d.trailers };
}

test('chunks, extensions and the end offset, all in one buffer', () => {
  const r = decodeParts(['5\r\nhello\r\n6;name=value\r\n world\r\n0\r\n\r\nNEXT']);
  assert.equal(r.body, 'hello world');
  assert.equal(r.end, '5\r\nhello\r\n6;name=value\r\n world\r\n0\r\n\r\n'.length);
  assert.deepEqual(r.trailers, []);
});

test('every split point of the input decodes to the same body and trailers', () => {
  const wire = 'a;x="q"\r\n0123456789\r\nA \t;y\r\nabcdefghij\r\n0\r\nGrpc-Status: 0\r\nX-T: v\r\n\r\n';
  for (let cut = 1; cut < wire.length; cut++) {
    const r = decodeParts([wire.slice(0, cut), wire.slice(cut)]);
    assert.equal(r.body, '0123456789abcdefghij', `cut ${cut}`);
    assert.equal(r.end, wire.length - cut, `cut ${cut}`);
    assert.deepEqual(r.trailers, ['grpc-status', '0', 'x-t', 'v'], `cut ${cut}`);
  }
  const bytes = decodeParts(wire.split(''));
  assert.equal(bytes.body, '0123456789abcdefghij');
  assert.equal(bytes.end, 1);
});

test('chunk data is passed on without copying', () => {
  const buf = Buffer.from('3\r\nabc\r\n0\r\n\r\n');
  const d = new ChunkedDecoder();
  let seen: Buffer | null = null;
  d.decode(buf, 0, (c) => { seen = c; });
  assert.equal(seen!.buffer, buf.buffer);
});

test('bad framing is refused', () => {
  for (const wire of [
    'x\r\n', '\r\n', '0x2\r\n', '-1\r\n', '5\nhello\r\n', '3\r\nabcX\r\n', '3\r\nabc\rX', '3;a\rb\r\nabc\r\n',
    '3;a\nb\r\nabc\r\n', '3;\x00\r\n', '3 x\r\n', 'fffffffffffffff\r\n', '0\r\nBad Name: v\r\n\r\n', '0\r\nX: a\r\n b\r\n\r\n',
  ]) {
    assert.throws(() => decodeParts([wire]), HttpParseError, JSON.stringify(wire));
  }
});

test('chunk extensions and trailers are bounded', () => {
  const longExt = '1;' + 'e'.repeat(17 * 1024) + '\r\n';
  assert.throws(() => decodeParts([longExt]), /chunk extensions too large/);
  const manyExt = Array.from({ length: 2000 }, () => '1;' + 'e'.repeat(10) + '\r\nx\r\n').join('');
  assert.throws(() => decodeParts([manyExt]), /chunk extensions too large/);
  const bigTrailers = '0\r\n' + 'x: ' + 'a'.repeat(17 * 1024);
  assert.throws(() => decodeParts([bigTrailers]), /trailer section too large/);
});
