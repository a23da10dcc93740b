/**
 * A bounded cache of labelled metric children, keyed by up to four label values through nested Maps
 * so a hit allocates nothing (no joined key string). When it holds `max` tuples it starts over,
 * which keeps memory bounded whatever values arrive; a miss only costs prom-client's own lookup.
 */

type Level<C> = Map<string, Map<string, Map<string, Map<string, C>>>>;

export class LabelCache<C> {
  readonly #max: number;
  readonly #create: (a: string, b: string, c: string, d: string) => C;
  #root: Level<C> = new Map();
  #size = 0;

  constructor(max: number, create: (a: string, b: string, c: string, d: string) => C) {
    this.#max = max;
    this.#create = create;
  }

  /** Pass '' for unused trailing labels. */
  get(a: string, b: string, c: string, d: string): C {
    let l1 = this.#root.get(a);
    if (l1 === undefined) this.#root.set(a, (l1 = new Map()));
    let l2 = l1.get(b);
    if (l2 === undefined) l1.set(b, (l2 = new Map()));
    let l3 = l2.get(c);
    if (l3 === undefined) l2.set(c, (l3 = new Map()));
    let child = l3.get(d);
    if (child === undefined) {
      child = this.#create(a, b, c, d);
      if (this.#size >= this.#max) {
        this.#root = new Map();
        this.#size = 0;
        return child;
      }
      l3.set(d, child);
      this.#size++;
    }
    return child;
  }

  get size(): number {
    return this.#size;
  }
}

const STATUS_LABELS: readonly string[] = Array.from({ length: 600 }, (_, i) => String(i));

/** The `code` label for an HTTP status, from a table (no string per request); odd values are `other`. */
export function statusLabel(status: number): string {
  return status >= 100 && status < 600 && Number.isInteger(status) ? STATUS_LABELS[status] : 'other';
}
