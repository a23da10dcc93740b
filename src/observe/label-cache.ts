/**
 * Bounded storage of per-label-tuple cells, keyed by up to four label values through nested Maps so
 * a hit allocates nothing (no joined key string). Past `max` tuples, new tuples share one overflow
 * cell (every label `overflow`): memory stays bounded whatever values arrive, and nothing is lost.
 */

type Level<C> = Map<string, Map<string, Map<string, Map<string, C>>>>;

export const OVERFLOW = 'overflow';

export class LabelCache<C> {
  readonly #max: number;
  readonly #create: (a: string, b: string, c: string, d: string) => C;
  #root: Level<C> = new Map();
  #all: C[] = [];
  #overflow: C | undefined;

  constructor(max: number, create: (a: string, b: string, c: string, d: string) => C) {
    this.#max = max;
    this.#create = create;
  }

  /** Pass '' for unused trailing labels. */
  get(a: string, b: string, c: string, d: string): C {
    const l1 = this.#root.get(a);
    const l2 = l1?.get(b);
    const l3 = l2?.get(c);
    const hit = l3?.get(d);
    if (hit !== undefined) return hit;
    if (this.#all.length >= this.#max) {
      if (this.#overflow === undefined) {
        this.#overflow = this.#create(OVERFLOW, OVERFLOW, OVERFLOW, OVERFLOW);
        this.#all.push(this.#overflow);
      }
      return this.#overflow;
    }
    const cell = this.#create(a, b, c, d);
    let m1 = l1;
    if (m1 === undefined) this.#root.set(a, (m1 = new Map()));
    let m2 = l2;
    if (m2 === undefined) m1.set(b, (m2 = new Map()));
    let m3 = l3;
    if (m3 === undefined) m2.set(c, (m3 = new Map()));
    m3.set(d, cell);
    this.#all.push(cell);
    return cell;
  }

  /** Every cell, in creation order (the overflow cell included once it exists). */
  all(): readonly C[] {
    return this.#all;
  }

  clear(): void {
    this.#root = new Map();
    this.#all = [];
    this.#overflow = undefined;
  }
}

const STATUS_LABELS: readonly string[] = Array.from({ length: 600 }, (_, i) => String(i));

/** The `code` label for an HTTP status, from a table (no string per request); odd values are `other`. */
export function statusLabel(status: number): string {
  return status >= 100 && status < 600 && Number.isInteger(status) ? STATUS_LABELS[status] : 'other';
}
