import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareResponses, createComparer, type ComparedResponse } from './compare.ts';
import { compilePathPattern, fieldOf, pathMatcher } from './json-path.ts';

function json(body: unknown, headers: Record<string, string | string[]> = {}, status = 200): ComparedResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify(body)) };
}

function text(body: string, headers: Record<string, string> = {}, status = 200): ComparedResponse {
  return { status, headers: { 'content-type': 'text/plain', ...headers }, body: Buffer.from(body) };
}

describe('compareResponses', () => {
  it('finds nothing between identical responses', () => {
    const r = json({ a: 1, b: [1, 2, { c: 'x' }] });
    assert.deepEqual(compareResponses(r, json({ a: 1, b: [1, 2, { c: 'x' }] })), []);
  });

  it('ignores key order and formatting in JSON bodies', () => {
    const a: ComparedResponse = { status: 200, headers: {}, contentType: 'application/json', body: Buffer.from('{"a":1,"b":2}') };
    const b: ComparedResponse = { status: 200, headers: {}, contentType: 'application/json', body: Buffer.from('{ "b": 2,\n "a": 1.0 }') };
    assert.deepEqual(compareResponses(a, b), []);
  });

  it('reports the status', () => {
    assert.deepEqual(compareResponses(text('x'), text('x', {}, 503)), [{ field: 'status', kind: 'value', primary: '200', candidate: '503' }]);
  });

  it('compares nested JSON field by field, arrays by index', () => {
    const primary = json({ meta: { total: 3, page: 1 }, items: [{ id: 'a', price: 10 }, { id: 'b', price: 20 }, { id: 'c', price: 30 }] });
    const candidate = json({ meta: { total: 3, page: 1 }, items: [{ id: 'a', price: 10 }, { id: 'b', price: 21 }, { id: 'c', price: 30 }] });
    assert.deepEqual(compareResponses(primary, candidate), [{ field: '$.items[1].price', kind: 'value', primary: '20', candidate: '21' }]);
  });

  it('reports type changes once, without descending', () => {
    const d = compareResponses(json({ price: '10.00', tags: ['a'], n: null }), json({ price: 10, tags: { 0: 'a' }, n: 0 }));
    assert.deepEqual(d, [
      { field: '$.price', kind: 'type', primary: 'string "10.00"', candidate: 'number 10' },
      { field: '$.tags', kind: 'type', primary: 'array ["a"]', candidate: 'object {"0":"a"}' },
      { field: '$.n', kind: 'type', primary: 'null null', candidate: 'number 0' },
    ]);
  });

  it('reports missing and extra fields and array items', () => {
    const d = compareResponses(json({ a: 1, b: 2, list: [1, 2, 3] }), json({ a: 1, c: { deep: true }, list: [1] }));
    assert.deepEqual(d, [
      { field: '$.b', kind: 'missing', primary: '2' },
      { field: '$.list[1]', kind: 'missing', primary: '2' },
      { field: '$.list[2]', kind: 'missing', primary: '3' },
      { field: '$.c', kind: 'extra', candidate: '{"deep":true}' },
    ]);
    assert.deepEqual(compareResponses(json([1]), json([1, 'x'])), [{ field: '$[1]', kind: 'extra', candidate: '"x"' }]);
  });

  it('quotes keys that are not identifiers', () => {
    const d = compareResponses(json({ 'odd key': 1, 'a.b': 2 }), json({ 'odd key': 2, 'a.b': 2 }));
    assert.deepEqual(d.map((x) => x.field), ['$["odd key"]']);
  });

  it('compares non-JSON bodies by hash, and JSON that does not parse as bytes', () => {
    const d = compareResponses(text('hello'), text('hellO'));
    assert.equal(d.length, 1);
    assert.equal(d[0].field, 'body');
    assert.match(d[0].primary ?? '', /^sha256:[0-9a-f]{16} \(5 bytes\)$/);
    assert.notEqual(d[0].primary, d[0].candidate);
    const broken: ComparedResponse = { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"a":') };
    assert.deepEqual(compareResponses(broken, json({ a: 1 })).map((x) => x.field), ['body']);
    assert.deepEqual(compareResponses(text('same'), text('same')), []);
  });

  it('treats application/problem+json as JSON', () => {
    const a: ComparedResponse = { status: 400, headers: {}, contentType: 'application/problem+json', body: Buffer.from('{"title":"x"}') };
    const b: ComparedResponse = { ...a, body: Buffer.from('{"title":"y"}') };
    assert.deepEqual(compareResponses(a, b).map((x) => x.field), ['$.title']);
  });

  it('compares headers case-insensitively, skipping the default ignore list', () => {
    const a = text('x', { Date: 'Mon', 'X-Request-Id': '1', Server: 'vm', ETag: '"a"', 'Cache-Control': 'max-age=60', 'X-Only-Primary': '1' });
    const b = text('x', { date: 'Tue', 'x-request-id': '2', server: 'k8s', etag: '"b"', 'cache-control': 'no-store', 'x-only-candidate': '1' });
    assert.deepEqual(compareResponses(a, b), [
      { field: 'header.cache-control', kind: 'value', primary: '"max-age=60"', candidate: '"no-store"' },
      { field: 'header.x-only-candidate', kind: 'extra', candidate: '"1"' },
      { field: 'header.x-only-primary', kind: 'missing', primary: '"1"' },
    ]);
  });

  it('compares Set-Cookie by cookie names only', () => {
    const a = text('x', {});
    const withCookies = (list: string[]): ComparedResponse => ({ ...a, headers: { ...a.headers, 'set-cookie': list } });
    assert.deepEqual(compareResponses(withCookies(['session=abc; Path=/', 'theme=dark']), withCookies(['theme=light', 'session=xyz; HttpOnly'])), []);
    assert.deepEqual(compareResponses(withCookies(['session=abc']), withCookies(['sid=abc'])), [
      { field: 'header.set-cookie', kind: 'value', primary: 'session', candidate: 'sid' },
    ]);
  });

  it('takes contentType as the content-type header', () => {
    const a: ComparedResponse = { status: 200, headers: {}, contentType: 'application/json', body: Buffer.from('{}') };
    const b: ComparedResponse = { status: 200, headers: {}, contentType: 'application/json; charset=utf-8', body: Buffer.from('{}') };
    assert.deepEqual(compareResponses(a, b).map((d) => d.field), ['header.content-type']);
  });

  it('applies explicit ignore rules for headers and JSON paths with wildcards', () => {
    const compare = createComparer({
      ignoreHeaders: ['X-Backend'],
      ignoreFields: ['$.meta.generatedAt', '$.items[*].id', '$.*.etag', '$["odd key"]'],
    });
    const a = json({ meta: { generatedAt: 1, v: 1 }, items: [{ id: 1, p: 1 }, { id: 2, p: 2 }], x: { etag: 'a' }, 'odd key': 1 }, { 'x-backend': 'vm' });
    const b = json({ meta: { generatedAt: 2, v: 1 }, items: [{ id: 9, p: 1 }, { id: 8, p: 3 }], x: { etag: 'b' }, 'odd key': 2 }, { 'x-backend': 'k8s' });
    assert.deepEqual(compare(a, b).map((d) => d.field), ['$.items[1].p']);
    // an ignored object is ignored with everything under it, including missing and extra fields
    const meta = createComparer({ ignoreFields: ['$.meta'] });
    assert.deepEqual(meta(json({ meta: { a: 1 } }), json({ meta: { b: [1] } })), []);
    assert.deepEqual(meta(json({ meta: { a: 1 } }), json({})), []);
  });

  it('stops after maxDifferences', () => {
    const big = Array.from({ length: 500 }, (_, i) => i);
    const d = compareResponses(json(big), json(big.map((x) => x + 1)), { maxDifferences: 10 });
    assert.equal(d.length, 10);
  });

  it('compares very deep JSON as a whole below the depth limit without overflowing', () => {
    const deep = (leaf: string): ComparedResponse => ({
      status: 200, headers: {}, contentType: 'application/json', body: Buffer.from(`${'['.repeat(20_000)}${leaf}${']'.repeat(20_000)}`),
    });
    const d = compareResponses(deep('1'), deep('2'));
    assert.equal(d.length, 1);
    assert.equal(d[0].field, `$${'[0]'.repeat(64)}`);
    assert.equal(d[0].primary, '<too deep to show>');
    assert.deepEqual(compareResponses(deep('1'), deep('1.0')), []);
  });
});

describe('JSON path patterns', () => {
  it('match keys, quoted keys, indexes and wildcards', () => {
    assert.equal(compilePathPattern('$.a.b').test('$.a.b'), true);
    assert.equal(compilePathPattern('$.a.b').test('$.a.bc'), false);
    assert.equal(compilePathPattern('$.a.b').test('$.a.b.c'), false);
    assert.equal(compilePathPattern('$.items[*].id').test('$.items[12].id'), true);
    assert.equal(compilePathPattern('$.items[2].id').test('$.items[12].id'), false);
    assert.equal(compilePathPattern('$.*.id').test('$["odd key"].id'), true);
    assert.equal(compilePathPattern('$[*].id').test('$.x.id'), true);
    assert.equal(compilePathPattern('$["x"]').test('$.x'), true);
    assert.equal(compilePathPattern('$["a b"]').test('$["a b"]'), true);
    assert.equal(compilePathPattern('$').test('$'), true);
    assert.throws(() => compilePathPattern('a.b'), /must start with "\$"/);
    assert.throws(() => compilePathPattern('$.a..b'), /not understood at "\.\.b"/);
    assert.equal(pathMatcher([])('$.a'), false);
  });

  it('fold array indexes into fields', () => {
    assert.equal(fieldOf('$.items[3].price'), '$.items[*].price');
    assert.equal(fieldOf('$.a[1][22]'), '$.a[*][*]');
    assert.equal(fieldOf('header.date'), 'header.date');
  });
});
