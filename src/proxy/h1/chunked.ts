/**
 * Incremental decoder for the chunked transfer coding (RFC 9112 §7.1), for request bodies from
 * clients and response bodies from upstreams. Chunk data is handed on as subarrays of the input, never
 * copied. Refused as framing errors: a size with no hex digits or more than 13 (over 2^52), anything
 * but CRLF after a chunk's data, bare CR or LF and control characters in a chunk extension, chunk
 * extensions over 16 KiB per message (the CVE-2024-22019 class), and a trailer section over its byte
 * or field limit. Trailer fields are parsed with the same strict field-line rules as heads.
 */
import { HttpParseError, parseFieldLines } from './parse.ts';

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const SEMI = 59;

const S_SIZE = 0;
const S_SIZE_WS = 1;
const S_EXT = 2;
const S_SIZE_LF = 3;
const S_DATA = 4;
const S_DATA_CR = 5;
const S_DATA_LF = 6;
const S_TRAILERS = 7;
const S_DONE = 8;

const MAX_SIZE_DIGITS = 13;
const MAX_EXTENSION_BYTES = 16 * 1024;
const EMPTY = Buffer.alloc(0);
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** hex digit value, or -1. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) { HEX[65 + c] = 10 + c; HEX[97 + c] = 10 + c; }

function bad(code: string, message: string): HttpParseError {
  return new HttpParseError(400, code, message);
}

export class ChunkedDecoder {
  readonly trailers: string[] = [];
  readonly #maxTrailerBytes: number;
  readonly #maxTrailers: number;
  #state = S_SIZE;
  #size = 0;
  #digits = 0;
  #remaining = 0;
  #extensionBytes = 0;
  /** Trailer-section bytes seen in earlier buffers (the section is parsed once it is complete). */
  #trailerBytes: Buffer = EMPTY;

  constructor(maxTrailerBytes = 16 * 1024, maxTrailers = 100) {
    this.#maxTrailerBytes = maxTrailerBytes;
    this.#maxTrailers = maxTrailers;
  }

  get done(): boolean { return this.#state === S_DONE; }

  /**
   * Decodes buf[start..]; returns the offset just past the end of the message once the last chunk and
   * its trailer section are complete, else -1 (all of buf was consumed).
   */
  // HOT PATH
  decode(buf: Buffer, start: number, onData: (chunk: Buffer) => void): number {
    const len = buf.length;
    let i = start;
    while (i < len) {
      switch (this.#state) {
        case S_SIZE: {
          const c = buf[i];
          const v = HEX[c];
          if (v >= 0) {
            if (++this.#digits > MAX_SIZE_DIGITS) throw bad('ERR_H1_CHUNK_SIZE', 'chunk size too large');
            this.#size = this.#size * 16 + v;
            i++;
            continue;
          }
          if (this.#digits === 0) throw bad('ERR_H1_CHUNK_SIZE', 'invalid chunk size');
          if (c === CR) this.#state = S_SIZE_LF;
          else if (c === SEMI) this.#state = S_EXT;
          else if (c === SP || c === HTAB) this.#state = S_SIZE_WS;
          else throw bad('ERR_H1_CHUNK_SIZE', 'invalid chunk size');
          i++;
          continue;
        }
        case S_SIZE_WS: {
          // Whitespace is allowed only before a chunk extension (BWS ";").
          const c = buf[i++];
          if (c === SEMI) this.#state = S_EXT;
          else if (c !== SP && c !== HTAB) throw bad('ERR_H1_CHUNK_EXTENSION', 'invalid chunk extension');
          this.#countExtension(1);
          continue;
        }
        case S_EXT: {
          const from = i;
          while (i < len) {
            const c = buf[i];
            if (c === CR) break;
            if ((c < SP && c !== HTAB) || c === 127) throw bad('ERR_H1_CHUNK_EXTENSION', 'invalid chunk extension');
            i++;
          }
          this.#countExtension(i - from);
          if (i < len) { this.#state = S_SIZE_LF; i++; }
          continue;
        }
        case S_SIZE_LF:
          if (buf[i++] !== LF) throw bad('ERR_H1_CHUNK_SIZE', 'chunk size line not ended by CRLF');
          this.#digits = 0;
          if (this.#size === 0) { this.#state = S_TRAILERS; continue; }
          this.#remaining = this.#size;
          this.#size = 0;
          this.#state = S_DATA;
          continue;
        case S_DATA: {
          const n = Math.min(this.#remaining, len - i);
          onData(n === len - i && i === 0 ? buf : buf.subarray(i, i + n));
          i += n;
          if ((this.#remaining -= n) === 0) this.#state = S_DATA_CR;
          continue;
        }
        case S_DATA_CR:
          if (buf[i++] !== CR) throw bad('ERR_H1_CHUNK_DATA', 'chunk data not followed by CRLF');
          this.#state = S_DATA_LF;
          continue;
        case S_DATA_LF:
          if (buf[i++] !== LF) throw bad('ERR_H1_CHUNK_DATA', 'chunk data not followed by CRLF');
          this.#state = S_SIZE;
          continue;
        case S_TRAILERS:
          return this.#trailerSection(buf, i);
        default:
          throw bad('ERR_H1_AFTER_END', 'data after the end of a chunked message');
      }
    }
    return -1;
  }

  #countExtension(n: number): void {
    if ((this.#extensionBytes += n) > MAX_EXTENSION_BYTES) throw bad('ERR_H1_CHUNK_EXTENSION', 'chunk extensions too large');
  }

  /** Collects the trailer section (fields, then an empty line); returns the end offset in buf or -1. */
  #trailerSection(buf: Buffer, i: number): number {
    const prior = this.#trailerBytes;
    // Fast path: no trailers, and the empty line is all in this buffer.
    if (prior.length === 0 && buf[i] === CR && buf[i + 1] === LF) {
      this.#state = S_DONE;
      return i + 2;
    }
    const section = prior.length === 0 ? buf.subarray(i) : Buffer.concat([prior, buf.subarray(i)]);
    let end: number;
    if (section.length >= 2 && section[0] === CR && section[1] === LF) end = 2;
    else {
      const at = section.indexOf(CRLFCRLF);
      end = at < 0 ? -1 : at + 4;
    }
    if (end < 0) {
      if (section.length > this.#maxTrailerBytes) throw new HttpParseError(431, 'ERR_H1_TRAILERS_TOO_LARGE', 'trailer section too large');
      this.#trailerBytes = Buffer.from(section);
      return -1;
    }
    if (end > this.#maxTrailerBytes) throw new HttpParseError(431, 'ERR_H1_TRAILERS_TOO_LARGE', 'trailer section too large');
    if (end > 2) parseFieldLines(section, 0, end - 2, this.#maxTrailers, this.trailers, null);
    this.#trailerBytes = EMPTY;
    this.#state = S_DONE;
    return i + end - prior.length;
  }
}
