/**
 * Prior-knowledge h2c detection: reads the first bytes of a cleartext connection and decides between
 * HTTP/2 (the `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` preface, possibly arriving in pieces) and HTTP/1.1.
 * A connection that sends nothing within the headers timeout, or ends before it says anything, is closed.
 */
import type net from 'node:net';

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** `decide` gets every byte read so far; the socket is left flowing with no data listener of ours. */
export function sniffPreface(socket: net.Socket, timeoutMs: number, decide: (isH2: boolean, first: Buffer) => void): void {
  let seen: Buffer | null = null;
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  timer.unref();
  const onData = (chunk: Buffer): void => {
    const buf: Buffer = seen === null ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(buf.length, H2_PREFACE.length);
    const prefix = buf.compare(H2_PREFACE, 0, n, 0, n) === 0;
    if (prefix && buf.length < H2_PREFACE.length) { seen = buf; return; }
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.off('close', onClose);
    clearTimeout(timer);
    decide(prefix, buf);
  };
  // The listening socket allows half-open connections; one that ends before saying anything is done.
  const onEnd = (): void => { socket.destroy(); };
  const onClose = (): void => clearTimeout(timer);
  socket.on('data', onData);
  socket.once('end', onEnd);
  socket.once('close', onClose);
}
