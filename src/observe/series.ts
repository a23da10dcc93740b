/**
 * Counters, gauges and histograms for the per-request path. prom-client hashes the label set on every
 * `inc`/`observe`, even through a child, which costs a string per call; these keep plain numbers in
 * bounded per-tuple cells (label-cache.ts) and hand them to prom-client only when it is scraped. They
 * extend prom-client's own classes, so registries, names and the exposition format stay prom-client's.
 */
import client from 'prom-client';
import { LabelCache } from './label-cache.ts';

type Labels = Record<string, string>;

export interface ValueCell {
  readonly labels: Labels;
  value: number;
}

export interface HistogramCell {
  readonly labels: Labels;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

function labelsOf(names: readonly string[], values: readonly string[]): Labels {
  const labels: Labels = {};
  for (let i = 0; i < names.length; i++) labels[names[i]] = values[i];
  return labels;
}

interface SeriesOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: client.Registry[];
  /** Largest number of label tuples kept; past it, new tuples share an `overflow` series. */
  maxSeries: number;
}

/** Plain-number cells for one label tuple each, shared by the counter and gauge series. */
function valueCells<L extends string>(opts: SeriesOptions<L>): LabelCache<ValueCell> {
  const names = opts.labelNames;
  return new LabelCache(opts.maxSeries, (a, b, c, d) => ({ labels: labelsOf(names, [a, b, c, d]), value: 0 }));
}

function valuesOf<L extends string>(cells: LabelCache<ValueCell> | undefined): client.MetricValue<L>[] {
  return (cells?.all() ?? []).map((c) => ({ labels: c.labels as client.LabelValues<L>, value: c.value }));
}

/** Zeroes cells in place, not dropped: callers may hold on to them. */
function zero(cells: LabelCache<ValueCell> | undefined): void {
  for (const c of cells?.all() ?? []) c.value = 0;
}

export class CounterSeries<L extends string> extends client.Counter<L> {
  #cells: LabelCache<ValueCell> | undefined;

  constructor(opts: SeriesOptions<L>) {
    super(opts);
    this.#cells = valueCells(opts);
  }

  /** The cell for a label tuple (pass '' for labels the metric does not have). */
  cell(a: string, b = '', c = '', d = ''): ValueCell {
    return this.#cells!.get(a, b, c, d);
  }

  override async get(): Promise<client.MetricObjectWithValues<client.MetricValue<L>>> {
    return { ...(await super.get()), values: valuesOf<L>(this.#cells) };
  }

  override reset(): void {
    super.reset();
    // prom-client calls reset() from its constructor, before this class's fields exist.
    if (#cells in this) zero(this.#cells);
  }
}

export class GaugeSeries<L extends string> extends client.Gauge<L> {
  #cells: LabelCache<ValueCell> | undefined;

  constructor(opts: SeriesOptions<L>) {
    super(opts);
    this.#cells = valueCells(opts);
  }

  cell(a: string, b = '', c = '', d = ''): ValueCell {
    return this.#cells!.get(a, b, c, d);
  }

  override async get(): Promise<client.MetricObjectWithValues<client.MetricValue<L>>> {
    return { ...(await super.get()), values: valuesOf<L>(this.#cells) };
  }

  override reset(): void {
    super.reset();
    if (#cells in this) zero(this.#cells);
  }
}

export class HistogramSeries<L extends string> extends client.Histogram<L> {
  #cells: LabelCache<HistogramCell> | undefined;
  readonly #upper: Float64Array;

  constructor(opts: SeriesOptions<L> & { buckets: readonly number[] }) {
    super({ ...opts, buckets: [...opts.buckets] });
    const upper = Float64Array.from(opts.buckets).sort();
    const names = opts.labelNames;
    this.#upper = upper;
    this.#cells = new LabelCache(opts.maxSeries, (a, b, c, d) => ({
      labels: labelsOf(names, [a, b, c, d]),
      counts: new Float64Array(upper.length + 1),
      sum: 0,
      count: 0,
    }));
  }

  cell(a: string, b = '', c = '', d = ''): HistogramCell {
    return this.#cells!.get(a, b, c, d);
  }

  /** Records one observation in a cell. */
  record(cell: HistogramCell, value: number): void {
    const upper = this.#upper;
    let i = 0;
    while (i < upper.length && value > upper[i]) i++;
    cell.counts[i]++;
    cell.sum += value;
    cell.count++;
  }

  override get(): Promise<client.MetricObjectWithValues<client.MetricValueWithName<L>>> {
    return this.getForPromString();
  }

  /** What prom-client's registry reads for the text format (it prefers this over get() for histograms). */
  async getForPromString(): Promise<client.MetricObjectWithValues<client.MetricValueWithName<L>>> {
    // prom-client keeps name, help, type and aggregator on the instance; its typings do not say so.
    const { name, help, type, aggregator, collect } = this as unknown as client.MetricObject;
    const base = { name, help, type, aggregator, collect };
    const values: client.MetricValueWithName<L>[] = [];
    const bucketName = `${base.name}_bucket`;
    for (const cell of this.#cells?.all() ?? []) {
      let cumulative = 0;
      for (let i = 0; i <= this.#upper.length; i++) {
        cumulative += cell.counts[i];
        const le = i < this.#upper.length ? this.#upper[i] : '+Inf';
        values.push({ metricName: bucketName, labels: { ...cell.labels, le } as client.LabelValues<L>, value: cumulative });
      }
      values.push({ metricName: `${base.name}_sum`, labels: cell.labels as client.LabelValues<L>, value: cell.sum });
      values.push({ metricName: `${base.name}_count`, labels: cell.labels as client.LabelValues<L>, value: cell.count });
    }
    return { ...base, values };
  }

  override reset(): void {
    super.reset();
    if (#cells in this) {
      for (const c of this.#cells?.all() ?? []) {
        c.counts.fill(0);
        c.sum = 0;
        c.count = 0;
      }
    }
  }
}
