/**
 * Linear-time regular expressions for everything a user's configuration supplies (path, header and
 * query matches). V8's experimental linear engine (flag `l`) accepts the RE2-like subset that Gateway
 * API implementations are expected to support and refuses backreferences and lookarounds, so no
 * configured pattern can be turned into a catastrophic-backtracking denial of service.
 */
import v8 from 'node:v8';

v8.setFlagsFromString('--enable-experimental-regexp-engine');

/** Longest pattern accepted from configuration. */
export const MAX_PATTERN_LENGTH = 1024;

/**
 * Compiles `pattern` as a full-string match (`^(?:pattern)$`) in the linear engine.
 * Throws an Error whose message says why the pattern is refused.
 */
export function compileFullMatch(pattern: string): RegExp {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new Error(`regular expression longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  try {
    return new RegExp(`^(?:${pattern})$`, 'l');
  } catch (err) {
    // V8's message already reads "Invalid regular expression: /.../l: why"; keep only the why.
    const why = (err as Error).message.replace(/^Invalid regular expression: \/.*\/l?: /s, '');
    if (/linear time/.test(why)) {
      throw new Error('invalid regular expression: backreferences and lookaround are not supported (patterns run in linear time, as with RE2)');
    }
    throw new Error(`invalid regular expression: ${why}`);
  }
}
