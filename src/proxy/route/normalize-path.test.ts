import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../lib/index.ts';
import { normalizePath, normalizeTarget, removeDotSegments, type PathPolicy } from './normalize-path.ts';

const reject: PathPolicy = { encodedSlashes: 'reject', mergeSlashes: true };
const keep: PathPolicy = { encodedSlashes: 'keep', mergeSlashes: true };
const decode: PathPolicy = { encodedSlashes: 'decode', mergeSlashes: true };

test('normalisation table', () => {
  const cases: [string, PathPolicy, string | null][] = [
    ['/', reject, '/'],
    ['/a/b', reject, '/a/b'],
    ['/a/../admin', reject, '/admin'],
    ['/a/%2e%2e/admin', reject, '/admin'],
    ['/a/%2E%2e/admin', reject, '/admin'],
    ['/../../etc', reject, '/etc'],
    ['/a/./b/.', reject, '/a/b/'],
    ['/a/b/..', reject, '/a/'],
    ['//a///b', reject, '/a/b'],
    ['//a', { encodedSlashes: 'reject', mergeSlashes: false }, '//a'],
    ['/%41%62%7e%2D', reject, '/Ab~-'],
    ['/%3a%3A', reject, '/%3A%3A'],
    ['/a%2Fb', reject, null],
    ['/a%2fb', keep, '/a%2Fb'],
    ['/a%5cb', keep, '/a%5Cb'],
    ['/a%2Fb', decode, '/a/b'],
    ['/a%2F..%2Fadmin', decode, '/admin'],
    ['/a\\b', reject, null],
    ['/a%00b', reject, null],
    ['/a%0ab', reject, null],
    ['/a%zz', reject, null],
    ['/a%2', reject, null],
    ['/a b', reject, null],
    ['/%252F', reject, '/%252F'],
    ['/caf\u00e9', reject, '/caf%E9'],
    ['relative', reject, null],
  ];
  for (const [input, policy, want] of cases) assert.equal(normalizePath(input, policy), want, `${input} (${policy.encodedSlashes})`);
});

test('targets: fragments, queries, absolute-form, asterisk', () => {
  assert.deepEqual(normalizeTarget('/admin#x', reject), { path: '/admin', query: '', authority: null });
  assert.deepEqual(normalizeTarget('/a/../b?x=1&y=%2F#frag', reject), { path: '/b', query: '?x=1&y=%2F', authority: null });
  assert.deepEqual(normalizeTarget('http://Evil.example:81/a/../admin?q', reject), { path: '/admin', query: '?q', authority: 'evil.example:81' });
  assert.deepEqual(normalizeTarget('HTTPS://h', reject), { path: '/', query: '', authority: 'h' });
  assert.deepEqual(normalizeTarget('http://h?x', reject), { path: '/', query: '?x', authority: 'h' });
  assert.equal(normalizeTarget('*', reject), null);
  assert.equal(normalizeTarget('example.com:443', reject), null);
  assert.equal(normalizeTarget('http://user@h/', reject), null);
  assert.equal(normalizeTarget('/a?b\u0001', reject), null);
});

test('remove_dot_segments follows RFC 3986 §5.2.4 examples', () => {
  assert.equal(removeDotSegments('/a/b/c/./../../g'), '/a/g');
  assert.equal(removeDotSegments('/mid/content=5/../6'), '/mid/6');
  assert.equal(removeDotSegments('/..'), '/');
  assert.equal(removeDotSegments('/.'), '/');
});

test('normalisation is idempotent over 100,000 random paths in every policy', () => {
  const random = seededRandom(42);
  const alphabet = ['/', '/', '/', '.', '..', 'a', 'B', '%2e', '%2E', '%2f', '%2F', '%5c', '%41', '%7e', '%25', '%3a', '~', '-', '_', '\\', '%', '%0', '%00', ';', '=', '@', ':', '\u00e9', ' ', '%20'];
  const policies: PathPolicy[] = [reject, keep, decode, { encodedSlashes: 'keep', mergeSlashes: false }, { encodedSlashes: 'decode', mergeSlashes: false }];
  let normalised = 0;
  for (let i = 0; i < 100_000; i++) {
    let p = '/';
    const len = Math.floor(random() * 12);
    for (let j = 0; j < len; j++) p += alphabet[Math.floor(random() * alphabet.length)];
    const policy = policies[i % policies.length];
    const once = normalizePath(p, policy);
    if (once === null) continue;
    normalised++;
    assert.equal(normalizePath(once, policy), once, `not idempotent for ${JSON.stringify(p)} → ${once}`);
    assert.ok(once.startsWith('/'));
    assert.ok(!/\/\.\.?(\/|$)/.test(once), `dot segment left in ${once}`);
    if (policy.mergeSlashes) assert.ok(!once.includes('//'), `double slash in ${once}`);
  }
  assert.ok(normalised > 30_000, `only ${normalised} paths were accepted`);
});
