/** Configuration sources: they produce resources (or change signals) and never import the proxy. */
export * from './files.ts';
