import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../lib/index.ts';
import { HashKey, type HashRequest } from './hash-key.ts';
import { NO_HASH } from './balancer.ts';

function req(headers: string[], query = '', clientAddress = '10.1.2.3'): HashRequest {
  return { headers, query, clientAddress, setCookies: null, hashSig: null, hashValue: NO_HASH };
}

test('header, query parameter and source address keys; missing → no hash', () => {
  const h = new HashKey({ type: 'Header', name: 'X-User' }, Math.random);
  assert.equal(h.hash(req(['x-user', 'a'])), h.hash(req(['x-user', 'a'])));
  assert.notEqual(h.hash(req(['x-user', 'a'])), h.hash(req(['x-user', 'b'])));
  assert.equal(h.hash(req([])), NO_HASH);
  const q = new HashKey({ type: 'QueryParameter', name: 'u' }, Math.random);
  assert.equal(q.hash(req([], '?x=1&u=7')), q.hash(req([], '?u=7')));
  assert.equal(q.hash(req([], '?x=1')), NO_HASH);
  const ip = new HashKey({ type: 'SourceIP' }, Math.random);
  assert.notEqual(ip.hash(req([], '', '10.0.0.1')), ip.hash(req([], '', '10.0.0.2')));
  assert.equal(ip.hash(req([], '', '')), NO_HASH);
});

test('cookie: read from any cookie header; absent → a new value, set on the response, hashed alike', () => {
  const c = new HashKey({ type: 'Cookie', name: 'sid', ttlSeconds: 3600, path: '/app' }, seededRandom(1));
  const x = req(['cookie', 'a=1; sid=abc', 'cookie', 'z=2']);
  assert.equal(c.hash(x), c.hash(req(['cookie', 'sid=abc'])));
  assert.equal(x.setCookies, null);
  const fresh = req([]);
  const h = c.hash(fresh);
  assert.notEqual(h, NO_HASH);
  assert.equal(fresh.setCookies?.length, 1);
  const m = /^sid=([0-9a-f]{32}); Path=\/app; HttpOnly; Max-Age=3600$/.exec(fresh.setCookies![0]);
  assert.ok(m, fresh.setCookies![0]);
  assert.equal(c.hash(req(['cookie', `sid=${m[1]}`])), h, 'the cookie leads back to the same hash');
  assert.equal(c.hash(fresh), h, 'computed once per request');
  assert.equal(fresh.setCookies?.length, 1);
  const session = new HashKey({ type: 'Cookie', name: 's', ttlSeconds: 0, path: '/' }, seededRandom(2));
  const y = req([]);
  session.hash(y);
  assert.match(y.setCookies![0], /^s=[0-9a-f]{32}; Path=\/; HttpOnly$/);
});
