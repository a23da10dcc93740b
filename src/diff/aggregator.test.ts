import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDiffAggregator, OTHER_FIELD } from './aggregator.ts';
import type { ComparedResponse } from './compare.ts';
import { redactDifference, redactHeaders, redactJson, REDACTED, sampleResponse } from './redact.ts';

const ROUTE = 'HTTPRoute/default/productcatalog/rule/0';

function json(body: unknown, headers: Record<string, string | string[]> = {}, status = 200): ComparedResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.from(JSON.stringify(body)) };
}

/** A product response as each copy would render it, with a per-response timestamp. */
function product(at: number, price = 10): ComparedResponse {
  return json({ id: 'p1', price, meta: { generatedAt: at } });
}

describe('diff aggregator', () => {
  it('counts compared and differing comparisons per route', () => {
    const agg = createDiffAggregator({ now: () => 42 });
    for (let i = 0; i < 10; i++) agg.record(ROUTE, product(0), product(0, i < 3 ? 11 : 10));
    const s = agg.summary(ROUTE)!;
    assert.equal(s.compared, 10);
    assert.equal(s.differing, 3);
    assert.equal(s.diffRate, 30);
    assert.deepEqual(s.fields, [{ path: '$.price', differing: 3, noise: 0, rate: 30, noiseRate: 0, counted: true }]);
    assert.equal(agg.summary('other'), undefined);
    assert.deepEqual(agg.summary().map((r) => r.route), [ROUTE]);
  });

  it('cancels a timestamp field that differs between two stable responses (per request)', () => {
    const agg = createDiffAggregator();
    const r = agg.record(ROUTE, product(1), product(2), product(3));
    assert.equal(r.differing, false);
    assert.deepEqual(r.differences, []);
    assert.deepEqual(r.noise, ['$.meta.generatedAt']);
    // a real difference alongside the noise still counts
    const r2 = agg.record(ROUTE, product(1), product(2, 12), product(3));
    assert.equal(r2.differing, true);
    assert.deepEqual(r2.differences.map((d) => d.field), ['$.price']);
  });

  it('learns noisy fields and stops counting them when no secondary is available', () => {
    const agg = createDiffAggregator();
    for (let i = 0; i < 50; i++) agg.record(ROUTE, product(i), product(i + 1), product(i + 2));
    // no secondary this time: the timestamp differs, but it is known noise
    const r = agg.record(ROUTE, product(100), product(101));
    assert.equal(r.differing, false);
    assert.deepEqual(r.differences.map((d) => d.field), ['$.meta.generatedAt']);
    const field = agg.summary(ROUTE)!.fields.find((f) => f.path === '$.meta.generatedAt')!;
    assert.equal(field.differing, 51);
    assert.equal(field.noise, 50);
    assert.equal(field.counted, false);
    assert.equal(agg.summary(ROUTE)!.differing, 0);
  });

  it('counts a field whose raw rate clearly exceeds its noise rate', () => {
    // $.stock flaps in 10% of stable pairs, but differs in 60% of candidate pairs
    const agg = createDiffAggregator();
    let differing = 0;
    for (let i = 0; i < 100; i++) {
      const secondaryStock = i % 10 === 0 ? 4 : 5;
      const candidateStock = i % 10 < 6 ? 7 : 5;
      const r = agg.record(ROUTE, json({ stock: 5 }), json({ stock: candidateStock }), json({ stock: secondaryStock }));
      if (r.differing) differing++;
    }
    const f = agg.summary(ROUTE)!.fields[0];
    assert.equal(f.path, '$.stock');
    assert.equal(f.counted, true);
    assert.equal(f.noiseRate, 10);
    // the pairs where the secondary also flapped are cancelled per request
    assert.equal(differing, 50);
  });

  it('does not count a field whose raw rate is within the relative margin of its noise', () => {
    const agg = createDiffAggregator({ relative: 20 });
    for (let i = 0; i < 100; i++) {
      // raw 55%, noise 50%: relative excess 5/105 < 20%
      agg.record(ROUTE, json({ v: 1 }), json({ v: i < 55 ? 2 : 1 }), json({ v: i % 2 === 0 ? 3 : 1 }));
    }
    const f = agg.summary(ROUTE)!.fields[0];
    assert.equal(f.counted, false);
  });

  it('does not count a field under the absolute margin', () => {
    const agg = createDiffAggregator({ absolute: 5 });
    for (let i = 0; i < 100; i++) agg.record(ROUTE, json({ v: 1 }), json({ v: i < 3 ? 2 : 1 }));
    assert.equal(agg.summary(ROUTE)!.fields[0].counted, false);
    assert.equal(agg.summary(ROUTE)!.fields[0].rate, 3);
  });

  it('folds array indexes into one field', () => {
    const agg = createDiffAggregator();
    agg.record(ROUTE, json({ items: [{ p: 1 }, { p: 2 }] }), json({ items: [{ p: 1 }, { p: 3 }] }));
    agg.record(ROUTE, json({ items: [{ p: 1 }, { p: 2 }] }), json({ items: [{ p: 0 }, { p: 3 }] }));
    assert.deepEqual(agg.summary(ROUTE)!.fields.map((f) => [f.path, f.differing]), [['$.items[*].p', 2]]);
  });

  it('applies its comparison options', () => {
    const agg = createDiffAggregator({ compare: { ignoreFields: ['$.meta.generatedAt'], ignoreHeaders: ['x-backend'] } });
    const r = agg.record(ROUTE, json({ meta: { generatedAt: 1 } }, { 'x-backend': 'vm' }), json({ meta: { generatedAt: 2 } }, { 'x-backend': 'k8s' }));
    assert.equal(r.differing, false);
    assert.deepEqual(agg.summary(ROUTE)!.fields, []);
  });

  it('keeps the most recent samples, bounded, with secrets redacted', () => {
    let t = 0;
    const agg = createDiffAggregator({ maxSamples: 3, now: () => t });
    for (let i = 0; i < 10; i++) {
      t = i;
      agg.record(
        ROUTE,
        json({ user: 'ana', password: 'hunter2', nested: { apiKey: 'k1', n: i } }, { authorization: 'Bearer abc', 'set-cookie': ['session=s3cr3t; Path=/'] }),
        json({ user: 'ana', password: 'hunter3', nested: { apiKey: 'k2', n: i + 1 } }, { authorization: 'Bearer abc' }),
        undefined,
        { method: 'GET', path: '/products/p1' },
      );
    }
    const samples = agg.summary(ROUTE)!.samples;
    assert.deepEqual(samples.map((s) => s.at), [7, 8, 9]);
    const s = samples[2];
    assert.equal(s.method, 'GET');
    assert.equal(s.path, '/products/p1');
    const text = JSON.stringify(s);
    for (const secret of ['hunter2', 'hunter3', 'k1', 'k2', 'Bearer abc', 's3cr3t']) assert.equal(text.includes(secret), false, secret);
    assert.equal(s.primary.headers.authorization, REDACTED);
    assert.equal(s.primary.headers['set-cookie'], `session=${REDACTED}`);
    assert.deepEqual(JSON.parse(s.primary.body), { user: 'ana', password: REDACTED, nested: { apiKey: REDACTED, n: 9 } });
    assert.deepEqual(s.differences.find((d) => d.field === '$.password'), { field: '$.password', kind: 'value', primary: REDACTED, candidate: REDACTED });
    assert.deepEqual(s.differences.find((d) => d.field === '$.nested.n'), { field: '$.nested.n', kind: 'value', primary: '9', candidate: '10' });
  });

  it('can keep samples unredacted when asked', () => {
    const agg = createDiffAggregator({ redact: false });
    agg.record(ROUTE, json({ token: 'a' }), json({ token: 'b' }));
    assert.deepEqual(JSON.parse(agg.summary(ROUTE)!.samples[0].primary.body), { token: 'a' });
  });

  it('bounds routes and fields for any traffic', () => {
    const agg = createDiffAggregator({ maxRoutes: 2, maxFieldsPerRoute: 3 });
    for (let i = 0; i < 5; i++) agg.record(`route-${i}`, json({ a: 1 }), json({ a: 2 }));
    assert.equal(agg.summary().length, 2);
    assert.equal(agg.untracked(), 3);
    const r = agg.record('route-9', json({ a: 1 }), json({ a: 2 }));
    assert.equal(r.differing, true); // still judged
    const many: Record<string, number> = {};
    const other: Record<string, number> = {};
    for (let i = 0; i < 1_000; i++) {
      many[`k${i}`] = 1;
      other[`k${i}`] = 2;
    }
    agg.record('route-0', json(many), json(other));
    const fields = agg.summary('route-0')!.fields;
    assert.ok(fields.length <= 4, `${fields.length} fields`);
    assert.ok(fields.some((f) => f.path === OTHER_FIELD));
    agg.reset('route-0');
    assert.equal(agg.summary('route-0'), undefined);
    agg.reset();
    assert.deepEqual(agg.summary(), []);
  });
});

describe('redaction', () => {
  it('redacts credential headers and cookie values', () => {
    assert.deepEqual(redactHeaders({ Authorization: 'Basic x', Cookie: 'a=1; b=2', 'X-Ok': 'fine', 'Proxy-Authorization': 'y' }), {
      authorization: REDACTED,
      cookie: `a=${REDACTED}; b=${REDACTED}`,
      'x-ok': 'fine',
      'proxy-authorization': REDACTED,
    });
  });

  it('redacts secret-looking JSON keys at any depth, in arrays too', () => {
    assert.deepEqual(redactJson({ Password: 1, pass: 2, clientSecret: 3, access_token: 4, 'api-key': 5, api_key: 6, apikey: 7, authorization: 8, list: [{ token: 'x', keep: 1 }], name: 'n' }), {
      Password: REDACTED, pass: REDACTED, clientSecret: REDACTED, access_token: REDACTED, 'api-key': REDACTED, api_key: REDACTED,
      apikey: REDACTED, authorization: REDACTED, list: [{ token: REDACTED, keep: 1 }], name: 'n',
    });
  });

  it('redacts differences on secret fields and credential headers only', () => {
    assert.deepEqual(redactDifference({ field: '$.user["api_key"]', kind: 'value', primary: '"a"', candidate: '"b"' }).primary, REDACTED);
    assert.deepEqual(redactDifference({ field: 'header.authorization', kind: 'missing', primary: 'x' }), { field: 'header.authorization', kind: 'missing', primary: REDACTED });
    const plain = { field: '$.price', kind: 'value' as const, primary: '1', candidate: '2' };
    assert.equal(redactDifference(plain), plain);
  });

  it('keeps no content of non-JSON bodies, and truncates long JSON', () => {
    assert.equal(sampleResponse({ status: 200, headers: {}, body: Buffer.from('password=hunter2') }).body, '<16 bytes, not JSON>');
    const long = sampleResponse(json({ s: 'x'.repeat(10_000) })).body;
    assert.ok(long.length <= 4096 + 3);
    assert.ok(long.endsWith('...'));
  });
});
