/**
 * Strict HTTP/1.1 message heads (RFC 9112): request heads from clients and response heads from
 * upstreams, parsed from the bytes as received, with the framing decided here once so that what Ferry
 * forwards and what it frames can never disagree. Everything the grammar does not allow is refused:
 * bare CR or LF, obs-fold, whitespace before a colon, control characters and NUL, a lower-case or
 * empty method, a target with spaces or non-ASCII bytes, unknown versions, duplicate or non-numeric
 * Content-Length, Content-Length with Transfer-Encoding, duplicate Transfer-Encoding, any transfer
 * coding but `chunked` on a request, and Transfer-Encoding on HTTP/1.0. Header names come out
 * lower-cased; values come out without surrounding spaces and tabs.
 */

/** A message head Ferry refuses; `status` is what a server answers (400, 417, 431, 501, 505). */
export class HttpParseError extends Error {
  override name = 'HttpParseError';
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface RequestHead {
  method: string;
  target: string;
  http10: boolean;
  /** Flat `[name, value, ...]`, names lower-cased, in order. */
  headers: string[];
  /** Offset just past the blank line that ends the head. */
  end: number;
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** Another request may follow on this connection. */
  keepAlive: boolean;
  /** The Upgrade value when Connection names `upgrade`, else null. */
  upgrade: string | null;
  expectContinue: boolean;
}

export interface ResponseHead {
  status: number;
  http10: boolean;
  headers: string[];
  end: number;
  contentLength: number;
  /** The last transfer coding is chunked. */
  chunked: boolean;
  /** Transfer-Encoding without chunked last: the body runs until the connection closes. */
  closeDelimited: boolean;
  keepAlive: boolean;
}

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** tchar (RFC 9110 §5.6.2): 1, or 3 for an upper-case letter (so a name is lower-cased only when it needs it). */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 3;
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

/**
 * Field names common enough to be worth recognising in place: a name that matches one (in any case)
 * becomes that constant string, with no slice and no lower-casing. Indexed by length.
 */
const KNOWN_NAMES: { name: string; bytes: Uint8Array }[][] = [];
for (const name of [
  'accept', 'accept-encoding', 'accept-language', 'accept-ranges', 'access-control-allow-origin', 'age',
  'alt-svc', 'authorization', 'cache-control', 'connection', 'content-encoding', 'content-length',
  'content-security-policy', 'content-type', 'cookie', 'date', 'etag', 'expect', 'expires', 'host',
  'if-modified-since', 'if-none-match', 'keep-alive', 'last-modified', 'location', 'origin', 'pragma',
  'referer', 'server', 'set-cookie', 'strict-transport-security', 'te', 'traceparent', 'tracestate',
  'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'x-content-type-options',
  'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'x-request-id',
]) {
  for (let n = KNOWN_NAMES.length; n <= name.length; n++) KNOWN_NAMES.push([]);
  KNOWN_NAMES[name.length]!.push({ name, bytes: Buffer.from(name, 'latin1') });
}

/**
 * The known name spelled by the token buf[pos, pos + len), compared without regard to case, or
 * undefined. Setting bit 0x20 lower-cases a letter and maps no other tchar onto a letter or '-'.
 */
function knownName(buf: Buffer, pos: number, len: number): string | undefined {
  if (len >= KNOWN_NAMES.length) return undefined;
  const list = KNOWN_NAMES[len]!;
  const first = buf[pos]! | 0x20;
  next: for (let k = 0; k < list.length; k++) {
    const b = list[k]!.bytes;
    if (b[0] !== first) continue;
    for (let j = 1; j < len; j++) if ((buf[pos + j]! | 0x20) !== b[j]) continue next;
    return list[k]!.name;
  }
  return undefined;
}

/** field-vchar, SP and HTAB (obs-text allowed); no CTLs, no DEL. */
const FIELD = new Uint8Array(256);
FIELD[HTAB] = 1;
for (let c = 32; c <= 126; c++) FIELD[c] = 1;
for (let c = 128; c <= 255; c++) FIELD[c] = 1;

/** Request-target bytes: visible ASCII only (clients percent-encode the rest). */
const TARGET = new Uint8Array(256);
for (let c = 33; c <= 126; c++) TARGET[c] = 1;

/** Method bytes: upper-case letters, '-' and '_' (every registered method fits). */
const METHOD = new Uint8Array(256);
for (let c = 65; c <= 90; c++) METHOD[c] = 1;
METHOD[45] = 1;
METHOD[95] = 1;

const MAX_METHOD = 32;
const MAX_CONTENT_LENGTH_DIGITS = 15;

function bad(code: string, message: string): HttpParseError {
  return new HttpParseError(400, code, message);
}

const LFLF = Buffer.from('\n\n', 'latin1');

/**
 * Finds the end of a head starting at `start`: the index of its CRLFCRLF, or -1 when not all there
 * yet. Refuses a head longer than `max` bytes (431) and, while waiting, a head ended by bare LFs
 * (400), so such a client is told at once instead of timing out. Both searches are native scans.
 */
function findHeadEnd(buf: Buffer, start: number, max: number): number {
  const end = buf.indexOf(CRLFCRLF, start);
  if (end >= 0) {
    if (end + 4 - start > max) throw new HttpParseError(431, 'ERR_H1_HEAD_TOO_LARGE', 'message head too large');
    return end;
  }
  if (buf.length - start > max) throw new HttpParseError(431, 'ERR_H1_HEAD_TOO_LARGE', 'message head too large');
  if (buf.indexOf(LFLF, start) >= 0) throw bad('ERR_H1_BARE_LF', 'bare LF in message head');
  return -1;
}

const MAX_EMPTY_LINES = 4;

/** Skips the few empty lines a client may send before a request line (RFC 9112 §2.2); more are refused. */
function skipEmptyLines(buf: Buffer, start: number): number {
  for (let n = 0; buf[start] === CR && buf[start + 1] === LF; n++) {
    if (n === MAX_EMPTY_LINES) throw bad('ERR_H1_EMPTY_LINES', 'too many empty lines before the request line');
    start += 2;
  }
  return start;
}

/** Framing facts collected while the fields are read. */
export interface Framing {
  contentLength: number;
  te: string | null;
  close: boolean;
  keepAliveToken: boolean;
  upgradeToken: boolean;
  upgrade: string | null;
  expect: string | null;
}

function newFraming(): Framing {
  return { contentLength: -1, te: null, close: false, keepAliveToken: false, upgradeToken: false, upgrade: null, expect: null };
}

function connectionTokens(value: string, f: Framing): void {
  for (const raw of value.split(',')) {
    const t = raw.trim().toLowerCase();
    if (t === 'close') f.close = true;
    else if (t === 'keep-alive') f.keepAliveToken = true;
    else if (t === 'upgrade') f.upgradeToken = true;
  }
}

function contentLength(value: string): number {
  if (value.length === 0 || value.length > MAX_CONTENT_LENGTH_DIGITS) throw bad('ERR_H1_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) throw bad('ERR_H1_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
  }
  return Number(value);
}

/**
 * Reads the field lines in buf[pos, end) (each ending in CRLF; `end` is the index of the final CRLF
 * pair's first CR plus 2, i.e. where the empty line starts) into `out`. Returns the number of fields.
 * Framing fields are recorded in `f` when given.
 */
// HOT PATH
export function parseFieldLines(buf: Buffer, pos: number, end: number, maxFields: number, out: string[], f: Framing | null): number {
  let count = 0;
  // One string for all the field lines; names and values are cut from it without further copies from the buffer.
  const base = pos;
  const text = pos < end ? buf.toString('latin1', pos, end) : '';
  while (pos < end) {
    const first = buf[pos];
    if (first === SP || first === HTAB) throw bad('ERR_H1_OBS_FOLD', 'obsolete line folding');
    let i = pos;
    let kinds = 0;
    for (let t = TOKEN[buf[i]] | 0; t !== 0; t = TOKEN[buf[++i]] | 0) kinds |= t;
    if (i === pos) throw bad('ERR_H1_INVALID_HEADER', 'invalid header name');
    if (buf[i] !== COLON) throw bad('ERR_H1_INVALID_HEADER', 'invalid character in header name');
    const nameEnd = i;
    i++;
    while (buf[i] === SP || buf[i] === HTAB) i++;
    const valueStart = i;
    while (FIELD[buf[i]] === 1) i++;
    if (buf[i] !== CR || buf[i + 1] !== LF) throw bad('ERR_H1_INVALID_HEADER', 'invalid character in header value');
    let valueEnd = i;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    if (++count > maxFields) throw new HttpParseError(431, 'ERR_H1_TOO_MANY_HEADERS', 'too many header fields');
    let name = knownName(buf, pos, nameEnd - pos);
    if (name === undefined) {
      const raw = text.slice(pos - base, nameEnd - base);
      name = kinds === 1 ? raw : raw.toLowerCase();
    }
    const value = text.slice(valueStart - base, valueEnd - base);
    out.push(name, value);
    pos = i + 2;
    if (f === null) continue;
    switch (name) {
      case 'content-length':
        if (f.contentLength !== -1) throw bad('ERR_H1_DUPLICATE_CONTENT_LENGTH', 'duplicate Content-Length');
        f.contentLength = contentLength(value);
        break;
      case 'transfer-encoding':
        if (f.te !== null) throw bad('ERR_H1_DUPLICATE_TRANSFER_ENCODING', 'duplicate Transfer-Encoding');
        f.te = value.toLowerCase();
        break;
      case 'connection': connectionTokens(value, f); break;
      case 'upgrade': f.upgrade = value; break;
      case 'expect': f.expect = value; break;
    }
  }
  return count;
}

/** `HTTP/1.1` or `HTTP/1.0` at buf[i..i+8); returns whether it is 1.0. */
function version(buf: Buffer, i: number): boolean {
  if (buf[i] === 72 && buf[i + 1] === 84 && buf[i + 2] === 84 && buf[i + 3] === 80 && buf[i + 4] === 47) {
    const major = buf[i + 5], dot = buf[i + 6], minor = buf[i + 7];
    if (major === 49 && dot === 46 && (minor === 49 || minor === 48)) return minor === 48;
    if (major >= 48 && major <= 57 && dot === 46 && minor >= 48 && minor <= 57) {
      throw new HttpParseError(505, 'ERR_H1_VERSION', 'HTTP version not supported');
    }
  }
  throw bad('ERR_H1_INVALID_VERSION', 'invalid HTTP version');
}

/** Parses a request head at buf[start]; null when it is not complete yet. */
// HOT PATH
export function parseRequestHead(buf: Buffer, start: number, maxHeadBytes: number, maxHeaders: number): RequestHead | null {
  start = skipEmptyLines(buf, start);
  const headEnd = findHeadEnd(buf, start, maxHeadBytes);
  if (headEnd < 0) return null;

  let i = start;
  while (METHOD[buf[i]] === 1) i++;
  if (i === start || i - start > MAX_METHOD) throw bad('ERR_H1_INVALID_METHOD', 'invalid method');
  if (buf[i] !== SP) throw bad('ERR_H1_INVALID_METHOD', 'invalid method');
  const method = buf.toString('latin1', start, i);
  const targetStart = ++i;
  while (TARGET[buf[i]] === 1) i++;
  if (i === targetStart || buf[i] !== SP) throw bad('ERR_H1_INVALID_TARGET', 'invalid request target');
  const target = buf.toString('latin1', targetStart, i);
  const http10 = version(buf, i + 1);
  i += 9;
  if (buf[i] !== CR || buf[i + 1] !== LF) throw bad('ERR_H1_INVALID_VERSION', 'invalid request line');

  const headers: string[] = [];
  const f = newFraming();
  parseFieldLines(buf, i + 2, headEnd + 2, maxHeaders, headers, f);

  let chunked = false;
  if (f.te !== null) {
    if (http10) throw bad('ERR_H1_TE_HTTP10', 'Transfer-Encoding is not allowed on HTTP/1.0');
    if (f.contentLength !== -1) throw bad('ERR_H1_CL_TE', 'Content-Length with Transfer-Encoding');
    if (f.te !== 'chunked') throw new HttpParseError(501, 'ERR_H1_TRANSFER_CODING', 'unsupported transfer coding');
    chunked = true;
  }
  let expectContinue = false;
  if (f.expect !== null) {
    if (f.expect.toLowerCase() !== '100-continue') throw new HttpParseError(417, 'ERR_H1_EXPECTATION', 'expectation not supported');
    expectContinue = !http10;
  }
  return {
    method,
    target,
    http10,
    headers,
    end: headEnd + 4,
    contentLength: f.contentLength,
    chunked,
    keepAlive: http10 ? f.keepAliveToken && !f.close : !f.close,
    upgrade: f.upgradeToken ? f.upgrade : null,
    expectContinue,
  };
}

/** Parses a response head at buf[start]; null when it is not complete yet. */
// HOT PATH
export function parseResponseHead(buf: Buffer, start: number, maxHeadBytes: number, maxHeaders: number): ResponseHead | null {
  const headEnd = findHeadEnd(buf, start, maxHeadBytes);
  if (headEnd < 0) return null;
  const http10 = version(buf, start);
  let i = start + 8;
  if (buf[i] !== SP) throw bad('ERR_H1_INVALID_STATUS', 'invalid status line');
  const d0 = buf[i + 1] - 48, d1 = buf[i + 2] - 48, d2 = buf[i + 3] - 48;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) throw bad('ERR_H1_INVALID_STATUS', 'invalid status code');
  const status = d0 * 100 + d1 * 10 + d2;
  i += 4;
  if (buf[i] === SP) {
    i++;
    while (FIELD[buf[i]] === 1) i++;
  }
  if (buf[i] !== CR || buf[i + 1] !== LF) throw bad('ERR_H1_INVALID_STATUS', 'invalid status line');

  const headers: string[] = [];
  const f = newFraming();
  parseFieldLines(buf, i + 2, headEnd + 2, maxHeaders, headers, f);

  let chunked = false;
  let closeDelimited = false;
  if (f.te !== null) {
    if (f.contentLength !== -1) throw bad('ERR_H1_CL_TE', 'Content-Length with Transfer-Encoding');
    const codings = f.te.split(',');
    if (codings[codings.length - 1].trim() === 'chunked') chunked = true;
    else closeDelimited = true;
  }
  return {
    status,
    http10,
    headers,
    end: headEnd + 4,
    contentLength: f.contentLength,
    chunked,
    closeDelimited,
    keepAlive: (http10 ? f.keepAliveToken && !f.close : !f.close) && !closeDelimited,
  };
}
