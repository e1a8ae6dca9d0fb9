import type { Metric, Registry } from 'prom-client';

/**
 * Bucket bounds in seconds: the OpenTelemetry messaging conventions' advice, below 5 ms split
 * finer, where handlers on NATS mostly are.
 */
export const DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

export type Labels = Readonly<Record<string, string>>;

/** One labelled series of a histogram: what a message's path keeps and observes into. */
export class HistogramSeries {
  /** Per bucket, not cumulative; the last counts what exceeds every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    (this.counts[i] as number)++;
    this.sum += seconds;
    this.count++;
  }
}

/**
 * A Prometheus histogram whose series are objects the caller keeps, so that observing costs a
 * bucket search and three additions. (prom-client's own `Histogram` hashes the label set on
 * every observation, which this avoids; docs/performance.md has what that costs.) prom-client's
 * registry renders it like any of its metrics, through the same `get()` they offer.
 */
export class SeriesHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly byLabels = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
    private readonly bounds: readonly number[] = DURATION_BUCKETS,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of `labels`, made on first use; keep it rather than asking again per message. */
  series(labels: Labels): HistogramSeries {
    const key = JSON.stringify(labels);
    let series = this.byLabels.get(key);
    if (!series) {
      series = new HistogramSeries(labels, this.bounds);
      this.byLabels.set(key, series);
    }
    return series;
  }

  /** Every series made so far. */
  all(): IterableIterator<HistogramSeries> {
    return this.byLabels.values();
  }

  /** What prom-client's registry asks each metric for. */
  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { labels: Record<string, string | number>; value: number; metricName: string }[];
  }> {
    const values = [];
    for (const series of this.all()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += series.counts[i] as number;
        const le = i < this.bounds.length ? (this.bounds[i] as number) : '+Inf';
        values.push({
          labels: { ...series.labels, le },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({
        labels: { ...series.labels },
        value: series.sum,
        metricName: `${this.name}_sum`,
      });
      values.push({
        labels: { ...series.labels },
        value: series.count,
        metricName: `${this.name}_count`,
      });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }
}
