/**
 * Gateway API durations (GEP-2257): one or more `<number><unit>` pairs with units h, m, s, ms,
 * e.g. "1h", "500ms", "1m30s". "0s" means zero (callers decide whether that disables a timeout).
 */

const PART = /(\d{1,5})(h|ms|m|s)/gy;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/** Parses a GEP-2257 duration into milliseconds, or throws an Error naming the problem. */
export function parseDuration(text: string): number {
  if (typeof text !== 'string' || text.length === 0) throw new Error('duration must be a non-empty string such as "10s" or "500ms"');
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = PART.exec(text)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    consumed = PART.lastIndex;
  }
  if (consumed !== text.length) {
    throw new Error(`invalid duration "${text}": use numbers with units h, m, s or ms, e.g. "1m30s" or "250ms"`);
  }
  return total;
}
