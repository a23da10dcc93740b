/**
 * Golden tests for compile: each directory here holds input YAML (and optionally `binds.json`, and
 * `overrides.json`: Rollout traffic overrides by `namespace/name`) and `expected.json` with the
 * formatted errors, the snapshot (private keys redacted), the endpoint sets, the report and, when
 * there is anything in them, the discovery plan and what each Rollout resolved to. Regenerate with `UPDATE_GOLDEN=1 npx node --test test/golden/golden.test.ts`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compile, compileEndpoints, stableStringify, type TrafficOverrideInput } from '../../src/compile/index.ts';
import { formatConfigError } from '../../src/lib/index.ts';
import { parseYamlFiles } from '../../src/resources/index.ts';
import type { Snapshot } from '../../src/snapshot/index.ts';

const ROOT = import.meta.dirname;
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function redact(snapshot: Snapshot): unknown {
  return {
    ...snapshot,
    sockets: snapshot.sockets.map((s) => ({
      ...s,
      listeners: s.listeners.map((l) =>
        l.tls ? { ...l, tls: { ...l.tls, certificates: l.tls.certificates.map((c) => ({ ...c, keyPem: '<redacted>' })) } } : l,
      ),
    })),
  };
}

function run(dir: string, reverse: boolean) {
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => ({ path: f, text: readFileSync(join(dir, f), 'utf8') }));
  let binds: Map<string, { host: string; port: number }> | undefined;
  try {
    binds = new Map(Object.entries(JSON.parse(readFileSync(join(dir, 'binds.json'), 'utf8'))));
  } catch {
    binds = undefined;
  }
  let overrides: Map<string, TrafficOverrideInput> | undefined;
  try {
    overrides = new Map(Object.entries(JSON.parse(readFileSync(join(dir, 'overrides.json'), 'utf8'))));
  } catch {
    overrides = undefined;
  }
  const parsed = parseYamlFiles(files);
  const resources = reverse ? [...parsed.resources].reverse() : parsed.resources;
  const { snapshot, report, discovery, rollouts } = compile({ resources, errors: parsed.errors, ...(binds ? { binds } : {}), ...(overrides ? { overrides } : {}) });
  const endpoints = compileEndpoints(resources, snapshot);
  return {
    errors: report.errors.map(formatConfigError),
    snapshot: redact(snapshot),
    endpoints: Object.fromEntries(endpoints),
    report,
    ...(discovery.clusters.length > 0 || discovery.sources.length > 0 || Object.keys(discovery.backends).length > 0 ? { discovery } : {}),
    // The spec is the input echoed back; what matters is what it resolved to.
    ...(Object.keys(rollouts).length > 0
      ? { rollouts: Object.fromEntries(Object.entries(rollouts).map(([k, r]) => [k, { targets: r.targets, problem: r.problem }])) }
      : {}),
  };
}

const cases = readdirSync(ROOT, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const dir = join(ROOT, name);
    const actual = `${stableStringify(run(dir, false), 2)}\n`;
    const file = join(dir, 'expected.json');
    if (UPDATE) writeFileSync(file, actual);
    assert.equal(actual, readFileSync(file, 'utf8'), `${name}: output differs from expected.json (UPDATE_GOLDEN=1 to regenerate)`);
    // Compilation does not depend on the order resources arrive in.
    assert.equal(`${stableStringify(run(dir, true), 2)}\n`, actual, `${name}: output depends on resource order`);
  });
}
