/** Merges configuration loads into the effective resource set (see last-good.ts). */
export * from './last-good.ts';
