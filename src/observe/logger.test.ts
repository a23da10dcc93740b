import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from './logger.ts';

test('process logger writes JSON with level names and filters by level', () => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  const log = createLogger({ level: 'warn', destination: stream });
  log.info('hidden');
  log.warn({ socket: '0.0.0.0:80' }, 'cannot bind');
  const lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 1);
  assert.equal(lines[0].level, 'warn');
  assert.equal(lines[0].msg, 'cannot bind');
  assert.equal(lines[0].socket, '0.0.0.0:80');
  assert.equal('pid' in lines[0], false);
  assert.throws(() => createLogger({ level: 'loud' }), /unknown log level/);
});
