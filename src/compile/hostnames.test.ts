/** Hostname wildcard matching, listener/route intersection and specificity order. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareHostSpecificity, hostCovers, hostsIntersect, intersectHostnames } from './hostnames.ts';

test('a wildcard covers one or more labels, never the bare suffix', () => {
  assert.equal(hostCovers('*.example.com', 'foo.example.com'), true);
  assert.equal(hostCovers('*.example.com', 'foo.bar.example.com'), true);
  assert.equal(hostCovers('*.example.com', 'example.com'), false);
  assert.equal(hostCovers('*.example.com', 'fooexample.com'), false);
  assert.equal(hostCovers('*.example.com', '*.bar.example.com'), true);
  assert.equal(hostCovers('*.bar.example.com', '*.example.com'), false);
  assert.equal(hostCovers('*', '*.example.com'), true);
  assert.equal(hostCovers('foo.example.com', '*.example.com'), false);
  assert.equal(hostsIntersect('foo.example.com', '*.example.com'), true);
  assert.equal(hostsIntersect('a.example.com', 'b.example.com'), false);
});

test('intersection of listener and route hostnames (Gateway API examples)', () => {
  // No hostnames anywhere: any host.
  assert.deepEqual(intersectHostnames(undefined, []), ['*']);
  // Listener only / route only.
  assert.deepEqual(intersectHostnames('*.example.com', []), ['*.example.com']);
  assert.deepEqual(intersectHostnames(undefined, ['a.example.com', 'B.example.com']), ['a.example.com', 'b.example.com']);
  // Listener test.example.com accepts routes with test.example.com or *.example.com.
  assert.deepEqual(intersectHostnames('test.example.com', ['*.example.com']), ['test.example.com']);
  assert.deepEqual(intersectHostnames('test.example.com', ['test.example.com', 'other.example.com']), ['test.example.com']);
  // Listener *.example.com keeps matching route hostnames and drops the rest.
  assert.deepEqual(intersectHostnames('*.example.com', ['test.example.com', 'test.example.net', 'example.com']), ['test.example.com']);
  assert.deepEqual(intersectHostnames('*.example.com', ['*.foo.example.com']), ['*.foo.example.com']);
  assert.deepEqual(intersectHostnames('*.foo.example.com', ['*.example.com']), ['*.foo.example.com']);
  // No intersection.
  assert.deepEqual(intersectHostnames('a.example.com', ['b.example.com']), []);
  assert.deepEqual(intersectHostnames('*.example.com', ['example.com']), []);
});

test('specificity: exact (longest first), then wildcards (longest first), then any', () => {
  const hosts = ['*', '*.example.com', 'a.example.com', '*.foo.example.com', 'long.name.example.com', 'b.example.com'];
  assert.deepEqual([...hosts].sort(compareHostSpecificity), [
    'long.name.example.com',
    'a.example.com',
    'b.example.com',
    '*.foo.example.com',
    '*.example.com',
    '*',
  ]);
  assert.ok(compareHostSpecificity(undefined, '*.example.com') > 0);
});
