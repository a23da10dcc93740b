/**
 * Where HTTP/1.1 sockets read (net's `onread`), and the recycling of those buffers: upstream sockets,
 * and plain-TCP client sockets (h1/client-reads.ts).
 *
 * Every socket reads into one shared 16 KiB buffer and each read is copied out before the next: reads
 * up to 4 KiB into Buffer's shared pool, larger ones into a 16 KiB buffer of their own. A read that
 * fills the shared buffer means a large body is arriving: that socket's next read lands in a 64 KiB
 * buffer, handed over whole instead of copied (copying 64 KiB costs about 13 µs here), and the socket
 * keeps reading into such buffers while reads fill them, so an idle keep-alive connection holds none.
 *
 * A buffer handed over whole is marked recyclable. When the one who wrote it to a client knows nobody
 * holds it any more (the socket took every byte synchronously: `recycle`), it goes back to a bounded
 * free list and a later read lands in it. A TLS socket that cannot encrypt at once copies the bytes it
 * keeps, so the same test holds there. Without recycling, a 64 KiB response would be 80 KiB of fresh
 * ArrayBuffers, freed only by the next scavenge; V8 counts that external memory against the old
 * generation's limit, and at 1 GB/s it kept incremental marking running back to back (measured: about
 * twice the CPU per 64 KiB request whenever that set in). Only response bodies written to HTTP/1.1
 * clients come back: a client's request body is written to an upstream and its buffers are left to
 * the collector, so a large upload takes from the free lists without returning to them.
 */
import type { OnReadOpts } from 'node:net';

const SHARED_READ = Buffer.allocUnsafe(16 * 1024);
/** Reads up to this size are copied into Buffer's shared pool (allocUnsafe pools below poolSize / 2). */
const POOLED_COPY = 4 * 1024;
const MID = 16 * 1024;
const LARGE = 64 * 1024;
/** Free buffers kept per size: at most 1 MiB of 16 KiB ones and 4 MiB of 64 KiB ones. */
const KEEP = 64;

const freeMid: ArrayBuffer[] = [];
const freeLarge: ArrayBuffer[] = [];
/** Chunks handed over whole and not yet recycled; a chunk is recycled at most once. */
const recyclable = new WeakSet<Buffer>();

function take(list: ArrayBuffer[], size: number): Buffer {
  const ab = list.pop();
  return ab === undefined ? Buffer.allocUnsafeSlow(size) : Buffer.from(ab, 0, size);
}

function keep(ab: ArrayBuffer): void {
  const list = ab.byteLength === LARGE ? freeLarge : ab.byteLength === MID ? freeMid : null;
  if (list !== null && list.length < KEEP) list.push(ab);
}

/**
 * `chunk` came from an upstream read and every byte of it has left for the kernel, and the caller
 * keeps no reference to it: its memory may take a later read. Any other Buffer is ignored.
 */
export function recycle(chunk: Buffer): void {
  if (recyclable.delete(chunk)) keep(chunk.buffer as ArrayBuffer);
}

/**
 * `part` is the only piece of the read `whole` anyone will keep (the rest was a response head, parsed
 * into strings): it becomes the one to recycle, so a head and body read together are reused too.
 */
export function handOn(whole: Buffer, part: Buffer): void {
  if (recyclable.delete(whole)) recyclable.add(part);
}

/**
 * `onread` options for one socket: each read is delivered to `deliver` as a Buffer the handler may
 * keep, with `more` when the read filled its buffer (the socket reads again at once). `deliver`
 * returning false stops reading (net's `onread` contract).
 */
export function readOptions(deliver: (chunk: Buffer, more: boolean) => boolean | void): OnReadOpts {
  let next: Buffer = SHARED_READ;
  return {
    buffer: () => next,
    callback(nread: number, buf: Uint8Array): boolean {
      let chunk: Buffer;
      if (buf !== SHARED_READ && nread >= MID) {
        chunk = Buffer.from(buf.buffer, buf.byteOffset, nread); // this socket's own buffer: given away
        recyclable.add(chunk);
      } else {
        if (nread <= POOLED_COPY) {
          chunk = Buffer.allocUnsafe(nread);
        } else {
          chunk = take(freeMid, MID).subarray(0, nread);
          recyclable.add(chunk);
        }
        chunk.set(nread === buf.length ? buf : buf.subarray(0, nread));
        if (buf !== SHARED_READ) keep(buf.buffer as ArrayBuffer); // a short read into a large buffer: copied out, so the buffer is free again
      }
      const more = nread === buf.length;
      const keepReading = deliver(chunk, more) !== false;
      next = more ? take(freeLarge, LARGE) : SHARED_READ;
      return keepReading;
    },
  };
}
