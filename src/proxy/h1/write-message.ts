/**
 * One socket write per HTTP/1.1 message part, for both directions (responses to clients, requests to
 * upstreams): a head, a body chunk and their framing go out together, copied into one Buffer when
 * small, else corked into one writev.
 */
import type net from 'node:net';

/** Up to this many bytes, a message's parts are copied into one Buffer; above it they go out corked (one writev). */
const COPY_LIMIT = 16 * 1024;

/**
 * Writes `head` (latin1, may be empty), then `chunk` (may be null), then `tail` (latin1, may be empty)
 * as one socket write: copied into one Buffer when small, else corked. Returns socket.write's result.
 */
// HOT PATH
export function writeMessage(socket: net.Socket, head: string, chunk: Buffer | null, tail: string): boolean {
  const bodyLength = chunk === null ? 0 : chunk.length;
  if (bodyLength === 0) {
    const text = tail.length === 0 ? head : head + tail;
    return text.length === 0 ? true : socket.write(text, 'latin1');
  }
  if (head.length === 0 && tail.length === 0) return socket.write(chunk!);
  const total = head.length + bodyLength + tail.length;
  if (total <= COPY_LIMIT) {
    const out = Buffer.allocUnsafe(total);
    let at = head.length === 0 ? 0 : out.write(head, 0, 'latin1');
    at += chunk!.copy(out, at);
    if (tail.length > 0) out.write(tail, at, 'latin1');
    return socket.write(out);
  }
  return writeParts(socket, head, [chunk!], tail);
}

/** Writes `head`, the `chunks` and `tail` (latin1; head and tail may be empty) corked into one writev. Returns socket.write's result. */
export function writeParts(socket: net.Socket, head: string, chunks: Buffer[], tail: string): boolean {
  socket.cork();
  if (head.length > 0) socket.write(head, 'latin1');
  let ok = true;
  for (let i = 0; i < chunks.length; i++) ok = socket.write(chunks[i]);
  if (tail.length > 0) ok = socket.write(tail, 'latin1');
  socket.uncork();
  return ok;
}
