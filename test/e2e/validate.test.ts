/** `ferry validate`: every error listed with file, line, column, resource and field; exit status. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { makeConfigDir, gatewayYaml } from './config.ts';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/productcatalog/', import.meta.url));

async function validate(...paths: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const r = await run(process.execPath, [MAIN, 'validate', ...paths.flatMap((p) => ['--config', p])]);
    return { code: 0, stdout: r.stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

test('the shipped example validates cleanly', async () => {
  const r = await validate(EXAMPLE);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /0 error\(s\)/);
});

test('every error is listed with its position, and the exit status is 1', async (t) => {
  const cfg = await makeConfigDir({
    'gateway.yaml': gatewayYaml(),
    'bad.yaml': [
      'apiVersion: gateway.networking.k8s.io/v1',
      'kind: HTTPRoute',
      'metadata: {name: r1}',
      'spec:',
      '  parentRefs: [{name: edge}]',
      '  rules:',
      '    - matches:',
      '        - path: {type: Exact, value: no-slash}',
      '      backendRefs:',
      '        - {name: svc, port: 80, weight: 2000000}',
      '---',
      'apiVersion: v1',
      'kind: Widget',
      'metadata: {name: w}',
    ].join('\n'),
    'broken.yaml': 'kind: [',
  });
  t.after(() => cfg.remove());
  const r = await validate(cfg.dir);
  assert.equal(r.code, 1);
  const lines = r.stdout.trim().split('\n');
  const bad = cfg.path('bad.yaml');
  assert.ok(lines.some((l) => l.startsWith(`${bad}:8:`) && l.includes('HTTPRoute default/r1') && l.includes('spec.rules[0].matches[0].path.value')), r.stdout);
  assert.ok(lines.some((l) => l.startsWith(`${bad}:10:`) && l.includes('spec.rules[0].backendRefs[0].weight')), r.stdout);
  assert.ok(lines.some((l) => l.startsWith(`${bad}:13:`) && /Widget/.test(l) && /warning/.test(l)), r.stdout);
  assert.ok(lines.some((l) => l.startsWith(`${cfg.path('broken.yaml')}:1:`)), r.stdout);
});
