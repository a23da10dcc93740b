/**
 * What RingHash/Maglev (and sticky backend splits) hash on: a header, a cookie, the client address or
 * a query parameter, compiled once per policy. A missing key means "no hash" (round robin), except
 * for a cookie: a request without it gets a fresh random value, is placed by that value's hash, and
 * the response sets the cookie (`Set-Cookie: name=value; Path=path; HttpOnly[; Max-Age=ttl]`) so
 * the user's next requests land in the same place.
 */
import type { HashOn } from '../../snapshot/index.ts';
import type { Random } from '../../lib/index.ts';
import { hash32 } from './lb/hash.ts';
import { NO_HASH } from './balancer.ts';

/** What a hash key is read from: the request after rule filters. */
export interface HashRequest {
  /** Flat `[name, value, ...]`, lower-case names. */
  readonly headers: string[];
  /** `?a=b&c=d` or ''. */
  readonly query: string;
  readonly clientAddress: string;
  /** Set-Cookie values to add to the response. */
  setCookies: string[] | null;
  /** Cache of the last key hashed: `sig` of the HashKey and its hash. */
  hashSig: string | null;
  hashValue: number;
}

export class HashKey {
  /** Same sig = same key for the same request, so a hash is computed once per request. */
  readonly sig: string;
  readonly #on: HashOn;
  readonly #name: string;
  readonly #random: Random;

  constructor(on: HashOn, random: Random) {
    this.#on = on;
    this.#random = random;
    this.#name = on.type === 'Header' ? on.name.toLowerCase() : on.type === 'SourceIP' ? '' : on.name;
    this.sig = `${on.type}:${this.#name}`;
  }

  /** The request's key hash, or NO_HASH. */
  // HOT PATH (hash policies only)
  hash(x: HashRequest): number {
    if (x.hashSig === this.sig) return x.hashValue;
    const key = this.#key(x);
    x.hashSig = this.sig;
    x.hashValue = key === null ? NO_HASH : hash32(key);
    return x.hashValue;
  }

  #key(x: HashRequest): string | null {
    const on = this.#on;
    switch (on.type) {
      case 'Header': return headerValue(x.headers, this.#name);
      case 'SourceIP': return x.clientAddress === '' ? null : x.clientAddress;
      case 'QueryParameter': return queryValue(x.query, this.#name);
      case 'Cookie': {
        const v = cookieValue(x.headers, this.#name);
        if (v !== null) return v;
        const value = this.#newValue();
        const maxAge = on.ttlSeconds > 0 ? `; Max-Age=${on.ttlSeconds}` : '';
        (x.setCookies ??= []).push(`${this.#name}=${value}; Path=${on.path || '/'}; HttpOnly${maxAge}`);
        return value;
      }
    }
  }

  #newValue(): string {
    let s = '';
    for (let i = 0; i < 4; i++) s += Math.floor(this.#random() * 4294967296).toString(16).padStart(8, '0');
    return s;
  }
}

/**
 * The request's value for `on`, or null when it has none. Never invents a cookie (sticky splits send
 * a request without the cookie to the stable copy instead). Header names must be lower-case.
 */
export function keyValue(on: HashOn, x: HashRequest): string | null {
  switch (on.type) {
    case 'Header': return headerValue(x.headers, on.name.toLowerCase());
    case 'SourceIP': return x.clientAddress === '' ? null : x.clientAddress;
    case 'QueryParameter': return queryValue(x.query, on.name);
    case 'Cookie': return cookieValue(x.headers, on.name);
  }
}

function headerValue(headers: string[], name: string): string | null {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return null;
}

export function cookieValue(headers: string[], name: string): string | null {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'cookie') continue;
    for (const part of headers[i + 1].split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
    }
  }
  return null;
}

function queryValue(query: string, name: string): string | null {
  if (query.length < 2) return null;
  for (const part of query.slice(1).split('&')) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    if (k === name) return eq < 0 ? '' : part.slice(eq + 1);
  }
  return null;
}
