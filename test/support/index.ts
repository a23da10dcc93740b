/** Test helpers shared by every test: polling, real upstream servers, TLS material, Ferry processes. */
export * from './eventually.ts';
export * from './upstreams.ts';
export * from './certs.ts';
export * from './processes.ts';
export * from './records.ts';
