/** Match compilation and precedence ordering for HTTPRoute and GRPCRoute. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GRPCRouteMatch, HTTPRouteMatch, RouteResource } from '../resources/index.ts';
import { compareMatches, compileGrpcMatch, compileHttpMatch, grpcPath, normalizePrefix } from './matches.ts';

function route(kind: 'HTTPRoute' | 'GRPCRoute', namespace: string, name: string, creationTimestamp?: string): RouteResource {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind,
    metadata: { name, namespace, labels: {}, annotations: {}, ...(creationTimestamp ? { creationTimestamp } : {}) },
    spec: {},
    source: { file: 'x', line: 0, column: 0 },
    positions: new Map(),
  } as RouteResource;
}

const r = route('HTTPRoute', 'a', 'r');
const http = (label: string, m: HTTPRouteMatch, rt = r, rule = 0, match = 0) => ({ label, key: compileHttpMatch(rt, rule, match, m).key });
const order = (items: { label: string; key: Parameters<typeof compareMatches>[0] }[]) =>
  [...items].sort((a, b) => compareMatches(a.key, b.key)).map((i) => i.label);

test('PathPrefix values drop the trailing slash (element-wise matching), except the root', () => {
  assert.equal(normalizePrefix('/api/'), '/api');
  assert.equal(normalizePrefix('/'), '/');
  assert.equal(normalizePrefix('/api'), '/api');
  assert.deepEqual(compileHttpMatch(r, 0, 0, { path: { type: 'PathPrefix', value: '/v1/' } }).match.path, { type: 'PathPrefix', value: '/v1' });
  assert.deepEqual(compileHttpMatch(r, 0, 0, undefined).match, { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] });
});

test('header names are lower-cased, query names kept, types default to Exact', () => {
  const m = compileHttpMatch(r, 0, 0, { headers: [{ name: 'X-Canary', value: 'yes' }], queryParams: [{ name: 'Debug', type: 'RegularExpression', value: '1|true' }], method: 'GET' }).match;
  assert.deepEqual(m.headers, [{ name: 'x-canary', type: 'Exact', value: 'yes' }]);
  assert.deepEqual(m.queryParams, [{ name: 'Debug', type: 'RegularExpression', value: '1|true' }]);
  assert.equal(m.method, 'GET');
});

test('HTTPRoute precedence: Exact > regex > prefix, longer first, method, headers, query', () => {
  const items = [
    http('prefix /', {}),
    http('prefix /api', { path: { value: '/api' } }),
    http('prefix /api/v1', { path: { value: '/api/v1' } }),
    http('regex', { path: { type: 'RegularExpression', value: '/api/.*' } }),
    http('exact /api', { path: { type: 'Exact', value: '/api' } }),
    http('exact /api/long', { path: { type: 'Exact', value: '/api/long' } }),
    http('prefix /api + method', { path: { value: '/api' }, method: 'POST' }),
    http('prefix /api + 1 header', { path: { value: '/api' }, headers: [{ name: 'a', value: '1' }] }),
    http('prefix /api + 2 headers', { path: { value: '/api' }, headers: [{ name: 'a', value: '1' }, { name: 'b', value: '2' }] }),
    http('prefix /api + 1 header + query', { path: { value: '/api' }, headers: [{ name: 'a', value: '1' }], queryParams: [{ name: 'q', value: '1' }] }),
  ];
  assert.deepEqual(order(items), [
    'exact /api/long',
    'exact /api',
    'regex',
    'prefix /api/v1',
    'prefix /api + method',
    'prefix /api + 2 headers',
    'prefix /api + 1 header + query',
    'prefix /api + 1 header',
    'prefix /api',
    'prefix /',
  ]);
});

test('HTTPRoute ties: oldest route, then namespace/name, then rule and match index', () => {
  const old = route('HTTPRoute', 'z', 'old', '2020-01-01T00:00:00Z');
  const young = route('HTTPRoute', 'a', 'young', '2024-01-01T00:00:00Z');
  const b = route('HTTPRoute', 'b', 'same-age', '2024-01-01T00:00:00Z');
  const p = { path: { value: '/x' } };
  assert.deepEqual(order([http('b', p, b), http('young r1', p, young, 1), http('young r0m1', p, young, 0, 1), http('young r0m0', p, young, 0, 0), http('old', p, old)]), [
    'old',
    'young r0m0',
    'young r0m1',
    'young r1',
    'b',
  ]);
});

test('GRPCRoute method matches become /service/method path conditions', () => {
  assert.deepEqual(grpcPath({ service: 'pkg.Greeter', method: 'Hello' }), { type: 'Exact', value: '/pkg.Greeter/Hello' });
  assert.deepEqual(grpcPath({ service: 'pkg.Greeter' }), { type: 'RegularExpression', value: '/pkg\\.Greeter/[^/]+' });
  assert.deepEqual(grpcPath({ method: 'Hello' }), { type: 'RegularExpression', value: '/[^/]+/Hello' });
  assert.deepEqual(grpcPath({ type: 'RegularExpression', service: 'pkg\\.v[0-9]+\\.Greeter' }), { type: 'RegularExpression', value: '/(?:pkg\\.v[0-9]+\\.Greeter)/[^/]+' });
  assert.deepEqual(grpcPath(undefined), { type: 'PathPrefix', value: '/' });
});

test('GRPCRoute precedence: service characters, method characters, headers, then age', () => {
  const g = route('GRPCRoute', 'a', 'g');
  const grpc = (label: string, m: GRPCRouteMatch | undefined) => ({ label, key: compileGrpcMatch(g, 0, 0, m).key });
  assert.deepEqual(
    order([
      grpc('any', undefined),
      grpc('method only', { method: { method: 'Hello' } }),
      grpc('service', { method: { service: 'pkg.Greeter' } }),
      grpc('service+method', { method: { service: 'pkg.Greeter', method: 'Hello' } }),
      grpc('service+method+header', { method: { service: 'pkg.Greeter', method: 'Hello' }, headers: [{ name: 'x', value: '1' }] }),
      grpc('longer service', { method: { service: 'pkg.v2.Greeter' } }),
    ]),
    ['longer service', 'service+method+header', 'service+method', 'service', 'method only', 'any'],
  );
});
