import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rename, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchPaths } from './files.ts';
import { eventually } from '../../test/support/eventually.ts';

test('replacing a file by rename is seen every time, in directories and subdirectories', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-watch-'));
  let changes = 0;
  const w = watchPaths([dir], () => changes++, { debounceMs: 5 });
  t.after(async () => { w.close(); await rm(dir, { recursive: true, force: true }); });
  for (let i = 1; i <= 5; i++) {
    await writeFile(join(dir, '.tmp'), `v: ${i}`);
    await rename(join(dir, '.tmp'), join(dir, 'route.yaml'));
    await eventually(() => changes >= i, { message: `edit ${i} seen` });
  }
  await mkdir(join(dir, 'team-a'));
  await eventually(async () => {
    const before = changes;
    await writeFile(join(dir, 'team-a', 'r.yaml'), `v: ${before}`);
    await eventually(() => changes > before, { timeoutMs: 300 });
  }, { message: 'files in a new subdirectory are seen' });
});

test('a single configured file is watched through its directory', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-watch-'));
  const file = join(dir, 'ferry.yaml');
  await writeFile(file, 'a: 1');
  let changes = 0;
  const w = watchPaths([file], () => changes++, { debounceMs: 5 });
  t.after(async () => { w.close(); await rm(dir, { recursive: true, force: true }); });
  for (let i = 1; i <= 3; i++) {
    await writeFile(join(dir, 'x.tmp'), `a: ${i}`);
    await rename(join(dir, 'x.tmp'), file);
    await eventually(() => changes >= i);
  }
  const before = changes;
  await writeFile(join(dir, 'other.yaml'), 'b: 1');
  await writeFile(file, 'a: 9');
  await eventually(() => changes === before + 1);
});
