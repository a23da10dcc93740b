import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseReadyLine, repoRoot, startNodeProcess } from './processes.ts';
import { existsSync } from 'node:fs';

test('startNodeProcess captures lines, waits for them and stops on a signal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-proc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'fake.mjs');
  // The handler goes first: the parent may signal as soon as it reads the ready line.
  writeFileSync(script, `
    process.on('SIGTERM', () => { console.log('bye'); process.exit(3); });
    console.log('starting', process.argv.slice(2).join(' '));
    console.error(JSON.stringify({ msg: 'listening', sockets: [{ key: '127.0.0.1:1', host: '127.0.0.1', port: 1, protocol: 'HTTP' }], admin: { host: '127.0.0.1', port: 2 } }));
    setInterval(() => {}, 1000);
  `);
  const proc = startNodeProcess(script, ['run', '--x'], { env: { FOO: 'bar' } });
  t.after(() => proc.kill());
  assert.equal(await proc.waitForLine(/^starting/), 'starting run --x');
  const ready = parseReadyLine(await proc.waitForLine(/"msg":"listening"/));
  assert.deepEqual(ready.admin, { host: '127.0.0.1', port: 2 });
  assert.equal(ready.sockets[0].key, '127.0.0.1:1');
  const exit = await proc.stop();
  assert.equal(exit.code, 3);
  assert.ok(proc.stdout().includes('bye'));
  await assert.rejects(proc.waitForLine(/never/), /exited/);
});

test('waitForLine times out with the output so far', async (t) => {
  const proc = startNodeProcess('-e', ['console.log("only this"); setInterval(() => {}, 1000)']);
  t.after(() => proc.kill());
  await proc.waitForLine(/only this/);
  await assert.rejects(proc.waitForLine(/other/, 50), /within 50 ms[\s\S]*only this/);
  assert.equal((await proc.stop('SIGKILL')).signal, 'SIGKILL');
});

test('repoRoot points at the repository', () => {
  assert.ok(existsSync(join(repoRoot, 'package.json')));
});
