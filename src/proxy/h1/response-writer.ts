/**
 * Bytes of HTTP/1.1 responses to clients: status lines (cached per status), the `date` value (cached
 * for the rest of the current second), the canned answers a connection sends on its own (100
 * Continue, refusals of requests it cannot parse or time out).
 */
import { STATUS_CODES } from 'node:http';

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
