/**
 * The Node/V8 flags Ferry is meant to run with. `package.json` (npm scripts) and `bin/ferry.js` (its
 * shebang) spell them out because they cannot import this file; node-flags.test.ts keeps them equal.
 *
 * `--max-semi-space-size=8` caps V8's young generation at 8 MiB per semi-space (Node 24's default on
 * a machine with this much memory grows it further). A proxy allocates a lot of short-lived objects
 * per request and holds many small long-lived ones per connection; measured with `npm run bench` on
 * 2 cores: RSS with 10,000 idle keep-alive connections 320 → 238 MiB, throughput with features on
 * +3 %, p99 under saturation 12–15 → 5–7 ms (shorter scavenges).
 */
export const FERRY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
