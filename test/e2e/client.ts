/**
 * A client that keeps calling the gateway while a test changes things, recording which copy answered
 * each request and every failure; and small readers for the admin API.
 */
import type { Pool } from 'undici';
import { request } from 'undici';

export interface Batch {
  readonly total: number;
  by(name: string): number;
}

export class ContinuousClient {
  readonly failures: string[] = [];
  #pool: Pool;
  #concurrency: number;
  #running = false;
  #workers: Promise<void>[] = [];
  #listeners = new Set<(name: string) => void>();
  #path: string;
  #headers: Record<string, string>;

  constructor(pool: Pool, concurrency: number, path = '/products', headers: Record<string, string> = {}) {
    this.#pool = pool;
    this.#concurrency = concurrency;
    this.#path = path;
    this.#headers = headers;
  }

  start(): void {
    this.#running = true;
    for (let i = 0; i < this.#concurrency; i++) this.#workers.push(this.#loop());
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      try {
        const res = await this.#pool.request({ path: this.#path, method: 'GET', headers: this.#headers });
        const body = await res.body.text();
        if (res.statusCode !== 200) {
          this.failures.push(`${res.statusCode} ${body.slice(0, 80)}`);
          continue;
        }
        const name = (JSON.parse(body) as { name: string }).name;
        for (const l of this.#listeners) l(name);
      } catch (err) {
        this.failures.push((err as Error).message);
      }
    }
  }

  /** Resolves with the next `n` answers counted by which copy gave them. */
  collect(n: number): Promise<Batch> {
    return new Promise((resolve) => {
      const counts = new Map<string, number>();
      let total = 0;
      const l = (name: string) => {
        if (total >= n) return;
        counts.set(name, (counts.get(name) ?? 0) + 1);
        if (++total === n) {
          this.#listeners.delete(l);
          resolve({ total, by: (k) => counts.get(k) ?? 0 });
        }
      };
      this.#listeners.add(l);
    });
  }

  async stop(): Promise<void> {
    if (this.#pool.closed) return;
    this.#running = false;
    await Promise.all(this.#workers);
    this.#workers = [];
    await this.#pool.close();
  }
}

export async function adminJson(admin: string, path: string): Promise<unknown> {
  const res = await request(`${admin}${path}`);
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${text}`);
  return JSON.parse(text);
}

interface ConfigView { rules: Record<string, { routeId: string; backends: { weight: number }[] }> }

/** The weights of the first rule of a route, as the running snapshot has them. */
export async function routeWeights(admin: string, routeId: string): Promise<number[]> {
  const config = await adminJson(admin, '/config') as ConfigView;
  const rule = Object.values(config.rules).find((r) => r.routeId === routeId);
  if (!rule) throw new Error(`${routeId} is not in the running configuration`);
  return rule.backends.map((b) => b.weight);
}
