/** The README's first command: `ferry demo` moves productcatalog 100/0 → 0/100 with no failure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startNodeProcess, repoRoot } from '../support/processes.ts';

test('the demo migrates productcatalog step by step and exits 0', async () => {
  const demo = startNodeProcess(join(repoRoot, 'src', 'cli', 'main.ts'),
    ['demo', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--phase-seconds', '1']);
  const { code } = await demo.exited();
  const out = demo.stdout().join('\n');
  assert.equal(code, 0, out + demo.stderr().join('\n'));
  assert.match(out, /^100\/0\s+\d+\s+\d+ \(100\.0%\)\s+0 \(  0\.0%\)\s+0 /m);
  assert.match(out, /^0\/100\s+\d+\s+0 \(  0\.0%\)\s+\d+ \(100\.0%\)\s+0 /m);
  assert.match(out, /none failed/);
});
