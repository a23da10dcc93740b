/** Leaf helpers shared by every folder; imports nothing else of Ferry's. */
export * from './clock.ts';
export * from './duration.ts';
export * from './random.ts';
export * from './regex.ts';
export * from './config-error.ts';
