/**
 * 32-bit hashing for consistent hashing and sticky choices: FNV-1a over UTF-16 code units finished with
 * murmur3's avalanche, and `mix32` to derive independent hashes from one key (the backend share, the
 * priority level and the endpoint are chosen with different derivations, so the three choices are not
 * correlated).
 */

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** A second, independent 32-bit hash derived from `h`. */
export function mix32(h: number, seed: number): number {
  return fmix32((h ^ Math.imul(seed, 0x9e3779b1)) >>> 0);
}

/** `h` as a fraction in [0, 1). */
export function unit(h: number): number {
  return h / 4294967296;
}

export const SEED_SHARE = 0x5348;
export const SEED_LEVEL = 0x4c56;
