/**
 * The Node/V8 flags Ferry is meant to run with. `package.json` (npm scripts) and `bin/ferry.js` (its
 * shebang) spell them out because they cannot import this file; node-flags.test.ts keeps them equal.
 *
 * `--max-semi-space-size=8` caps V8's young generation at 8 MiB per semi-space. A proxy allocates
 * many short-lived objects per request and holds many small long-lived ones per connection. Measured
 * on 2 cores against Node 24's default (bench/idle-conns.ts and bench/profile.ts, interleaved runs):
 * RSS with 10,000 idle keep-alive connections 322 → 238 MiB (an explicit 16 MiB gave 252, 4 MiB 260),
 * CPU per request with features on −3 %, p99 at saturation 12–15 → 5–7 ms.
 *
 * `--min-semi-space-size=8` keeps it at that size. Left to itself, V8 shrinks the young generation of
 * an idle process, and at a moderate rate it never grows back: measured at 5,000 req/s after 12 s
 * without traffic (two runs each), scavenges came every 49 ms instead of every 198 ms, and the first
 * requests met a full mark-compact of 13–21 ms; with the floor there was none. The p99 of the first
 * 6 s after the gap went 3.5 and 12.2 ms → 2.3 and 2.7 ms. 10,000 idle connections: 164 MiB RSS.
 *
 * `--no-memory-reducer` stops V8's idle-time collections. After about 45 s without traffic V8 runs a
 * full collection meant to shrink the process, and the traffic after it paid: over 6 s at
 * 5,000 req/s following 50 s of quiet, p99 was 2.4–3.5 ms in the four runs after such a collection,
 * and 0.7–1.4 ms in three runs with this flag (`--no-flush-bytecode` did not help, so it is not the
 * bytecode being dropped). Garbage is still collected when allocation calls for it.
 */
export const FERRY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--min-semi-space-size=8', '--no-memory-reducer'];
