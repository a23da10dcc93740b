/** The control-plane/data-plane contract: see types.ts. */
export type * from './types.ts';
export type * from './report.ts';
export * from './events.ts';
