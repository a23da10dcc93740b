/**
 * Control-plane scale: parse, compile and endpoint-compile time and retained heap for 10,000 routes,
 * 10,000 backends and 100,000 endpoints. Run with --expose-gc; prints a markdown table.
 */
import { parseArgs } from 'node:util';
import { parseYamlFiles } from '../src/resources/index.ts';
import { compile, compileEndpoints } from '../src/compile/index.ts';
import { gatewayClassAndGateway, serviceYaml } from './lib/ferry-config.ts';

const { values } = parseArgs({
  options: { routes: { type: 'string', default: '10000' }, 'endpoints-per-backend': { type: 'string', default: '10' } },
});
const routes = Number(values.routes);
const perBackend = Number(values['endpoints-per-backend']);

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const heapMiB = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

function generate(): string {
  const docs: string[] = [gatewayClassAndGateway(false)];
  for (let i = 0; i < routes; i++) {
    const addresses = Array.from({ length: perBackend }, (_, j) => {
      const n = i * perBackend + j;
      return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    });
    docs.push(serviceYaml(`s${i}`, 8080, { addresses }));
  }
  for (let start = 0; start < routes; start += 16) {
    const rules: string[] = [];
    for (let i = start; i < Math.min(routes, start + 16); i++) {
      rules.push(`    - matches:
        - path:
            type: PathPrefix
            value: /r${i}
      backendRefs:
        - name: s${i}
          port: 8080
`);
    }
    docs.push(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: r${start}
  namespace: default
spec:
  parentRefs:
    - name: bench
  rules:
${rules.join('')}`);
  }
  return docs.join('---\n');
}

const rows: [string, string, string][] = [];
const time = <T>(label: string, fn: () => T, note = ''): T => {
  const before = heapMiB();
  const t0 = performance.now();
  const out = fn();
  const ms = performance.now() - t0;
  const after = heapMiB();
  rows.push([label, ms.toFixed(0), `${(after - before).toFixed(1)}${note}`]);
  return out;
};

const base = heapMiB();
const text = time('generate YAML', generate);
const parsed = time('parse + validate (parseYamlFiles)', () => parseYamlFiles([{ path: 'bench.yaml', text }]));
if (parsed.errors.length) throw new Error(`generated configuration has errors: ${parsed.errors[0]!.message}`);
const compiled = time('compile (routes, backends)', () => compile({ resources: parsed.resources, binds: new Map() }));
if (compiled.report.errors.length) throw new Error(`compile reported errors: ${compiled.report.errors[0]!.message}`);
const endpoints = time('compileEndpoints', () => compileEndpoints(parsed.resources, compiled.snapshot));
time('compile again (warm)', () => compile({ resources: parsed.resources, binds: new Map() }), ' (result dropped after)');
time('compileEndpoints again (warm)', () => compileEndpoints(parsed.resources, compiled.snapshot), ' (result dropped after)');
const total = heapMiB() - base;
let endpointCount = 0;
for (const list of endpoints.values()) endpointCount += list.length;

process.stdout.write(
  `${routes.toLocaleString('en-US')} routes, ${endpoints.size.toLocaleString('en-US')} backends with endpoints, ${endpointCount.toLocaleString('en-US')} endpoints; ` +
    `${parsed.resources.length.toLocaleString('en-US')} resources, ${(text.length / 2 ** 20).toFixed(1)} MiB of YAML; Node ${process.version}\n\n`,
);
process.stdout.write('| step | ms | retained heap MiB |\n|---|---:|---:|\n');
for (const [label, ms, heap] of rows) process.stdout.write(`| ${label} | ${ms} | ${heap} |\n`);
process.stdout.write(`| **everything held (text, resources, snapshot, endpoints)** | | **${total.toFixed(1)}** |\n`);
// keep the results reachable until the last measurement
if (!compiled.snapshot || !text) process.exit(1);
