/**
 * Bytes of HTTP/1.1 responses to clients: status lines (cached per status), the `date` value (cached
 * for the rest of the current second), the canned answers a connection sends on its own (100
 * Continue, refusals of requests it cannot parse or time out), and the one-write-per-message helper
 * that sends a head, a body chunk and their framing together.
 */
import { STATUS_CODES } from 'node:http';
import type net from 'node:net';

/** Up to this many bytes, a message's parts are copied into one Buffer; above it they go out corked (one writev). */
const COPY_LIMIT = 16 * 1024;

export const CONTINUE_100 = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

export const CRLF = '\r\n';
export const LAST_CHUNK = '0\r\n\r\n';

const statusLines: string[] = [];

/** `HTTP/1.1 <status> <reason>\r\n`. */
// HOT PATH
export function statusLine(status: number): string {
  let line = statusLines[status];
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    if (Number.isInteger(status) && status >= 100 && status <= 999) statusLines[status] = line;
  }
  return line;
}

let dateValue: string | null = null;

function forgetDate(): void {
  dateValue = null;
}

/**
 * The IMF-fixdate for the `date` header. Formatted at most once per second: an unref'd timer drops
 * the cached value when the second ends (one timer per second while responses are sent, none per request).
 */
// HOT PATH
export function httpDate(): string {
  if (dateValue === null) {
    const now = new Date();
    dateValue = now.toUTCString();
    setTimeout(forgetDate, 1000 - now.getMilliseconds()).unref();
  }
  return dateValue;
}

/** The whole answer to a request the connection refuses on its own; the connection closes after it. */
export function refusal(status: number): string {
  return `${statusLine(status)}connection: close\r\ncontent-length: 0\r\n\r\n`;
}

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
  socket.cork();
  if (head.length > 0) socket.write(head, 'latin1');
  let ok = socket.write(chunk!);
  if (tail.length > 0) ok = socket.write(tail, 'latin1');
  socket.uncork();
  return ok;
}
