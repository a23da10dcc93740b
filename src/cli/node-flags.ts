/**
 * The Node/V8 flags Ferry is meant to run with. `package.json` (npm scripts) and `bin/ferry.js` (its
 * shebang) spell them out because they cannot import this file; node-flags.test.ts keeps them equal.
 *
 * `--max-semi-space-size=8` caps V8's young generation at 8 MiB per semi-space. A proxy allocates
 * many short-lived objects per request and holds many small long-lived ones per connection. Measured
 * on 2 cores against Node 24's default (bench/idle-conns.ts and bench/profile.ts, interleaved runs):
 * RSS with 10,000 idle keep-alive connections 322 → 238 MiB (an explicit 16 MiB gave 252, 4 MiB 260),
 * CPU per request with features on −3 %, p99 at saturation 12–15 → 5–7 ms.
 */
export const FERRY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
