import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBinds, parseHostPort } from './args.ts';

test('binds map namespace/gateway/port to an address', () => {
  const b = parseBinds(['default/edge/80=127.0.0.1:8080', 'prod/api/443=[::1]:0', 'x/y/8080=:9000']);
  assert.deepEqual(b.get('default/edge/80'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(b.get('prod/api/443'), { host: '::1', port: 0 });
  assert.deepEqual(b.get('x/y/8080'), { host: '0.0.0.0', port: 9000 });
});

test('malformed binds name the flag and the expected form', () => {
  assert.throws(() => parseBinds(['edge/80=127.0.0.1:8080']), /--bind: expected NAMESPACE\/GATEWAY\/PORT=HOST:PORT/);
  assert.throws(() => parseBinds(['a/b/80=127.0.0.1']), /--bind a\/b\/80: expected HOST:PORT/);
  assert.throws(() => parseBinds(['a/b/80=h:1', 'a/b/80=h:2']), /given twice/);
  assert.throws(() => parseHostPort('1.2.3.4:70000', '--admin'), /--admin/);
});
