import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FERRY_NODE_FLAGS } from './node-flags.ts';

const root = join(import.meta.dirname, '../..');

test('npm scripts that run Ferry pass its Node flags', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  for (const name of ['demo', 'ferry']) {
    assert.equal(pkg.scripts[name], `node ${FERRY_NODE_FLAGS.join(' ')} src/cli/main.ts${name === 'demo' ? ' demo' : ''}`, `script "${name}"`);
  }
});

test('the ferry binary passes its Node flags in the shebang', () => {
  const first = readFileSync(join(root, 'bin/ferry.js'), 'utf8').split('\n')[0];
  assert.equal(first, `#!/usr/bin/env -S node ${FERRY_NODE_FLAGS.join(' ')}`);
});
