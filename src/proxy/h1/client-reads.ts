/**
 * Reading accepted plain-TCP client sockets through the shared read buffer of read-buffers.ts, the
 * way upstream sockets read, instead of into a fresh ArrayBuffer per read.
 *
 * A socket emitting 'data' gets a new 64 KiB backing store for every read, shrunk to the bytes read;
 * one per request on a keep-alive connection. Those are ArrayBuffers the next scavenge must sweep:
 * with features on at 5,000 req/s, sweeping them took 0.22–0.24 ms of scavenges whose median was
 * 0.60–0.64 ms, and 0.03–0.04 ms (median scavenge 0.42 ms) once requests were read through the
 * shared buffer and copied into Buffer's pool.
 *
 * net.Server has no `onread` option for the sockets it accepts. net.Socket keeps that option in three
 * own symbol properties (kBuffer, kBufferCb, kBufferGen), which its read callback consults on every
 * read; this sets them on an accepted socket as the constructor would and switches the handle to the
 * buffer (`useUserBuffer`). Where the running Node has no such properties, nothing is changed and the
 * socket keeps emitting 'data' (client-reads.test.ts checks the pinned Node takes the fast path).
 */
import net from 'node:net';
import { readOptions } from '../upstream/read-buffers.ts';

interface ReadSymbols { buffer: symbol; callback: symbol; generator: symbol }

function findReadSymbols(): ReadSymbols | null {
  const probe = new net.Socket();
  const own = Object.getOwnPropertySymbols(probe);
  probe.destroy();
  const named = (d: string) => own.find((s) => s.description === d);
  const buffer = named('kBuffer'), callback = named('kBufferCb'), generator = named('kBufferGen');
  return buffer && callback && generator ? { buffer, callback, generator } : null;
}

const SYMBOLS = findReadSymbols();

type Handle = { useUserBuffer?: (buf: Uint8Array) => void };

/**
 * From the next read on, `socket`'s bytes go to `deliver` (a Buffer the caller may keep) instead of
 * 'data' events; `deliver` returning false stops reading until `socket.resume()` or a stream read.
 * 'end', 'close', pause() and resume() behave as before. False when this Node offers no way to do it
 * (TLS sockets included): the socket is left as it was.
 */
export function readThroughSharedBuffer(socket: net.Socket, deliver: (chunk: Buffer) => boolean): boolean {
  const handle = (socket as unknown as { _handle: Handle | null })._handle;
  if (SYMBOLS === null || handle === null || typeof handle.useUserBuffer !== 'function' || 'encrypted' in socket) return false;
  const opts = readOptions(deliver);
  const generate = opts.buffer as () => Uint8Array;
  const first = generate();
  const fields = socket as unknown as Record<symbol, unknown>;
  fields[SYMBOLS.buffer] = first;
  fields[SYMBOLS.generator] = generate;
  fields[SYMBOLS.callback] = opts.callback;
  handle.useUserBuffer(first);
  return true;
}
