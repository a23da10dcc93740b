/** The control-plane/data-plane contract: see types.ts. */
export * from './types.ts';
export * from './defaults.ts';
export type * from './discovery.ts';
export type * from './report.ts';
export * from './events.ts';
