/** What every benchmark sends and what every handler does with it, Brigade and raw alike. */

export const SUBJECTS = {
  request: 'bench.echo',
  event: 'bench.event',
  /** Events before the measured ones, handled the same way but not counted. */
  warmup: 'bench.warmup',
  durable: 'benchdurable.event',
  done: 'bench.done',
} as const;

export const STREAM = 'BENCH';

/** `BENCH_PAYLOAD_BYTES`: the size of the JSON the load generator sends, for the scaling study. */
const PAYLOAD_BYTES = Number(process.env['BENCH_PAYLOAD_BYTES'] ?? 0);

/**
 * About 100 bytes of JSON, like a small order; with `BENCH_PAYLOAD_BYTES`, an object of about
 * that many bytes (an id and a string to fill it).
 */
export function payload(n: number): Record<string, unknown> {
  if (PAYLOAD_BYTES > 0) return { id: n, fill: 'x'.repeat(Math.max(0, PAYLOAD_BYTES - 26)) };
  return {
    id: n,
    customer: 'Minji',
    items: [
      { dish: 'bibimbap', quantity: 2 },
      { dish: 'kimchi', quantity: 1 },
    ],
  };
}

/**
 * Brigade variants, each measured against plain `brigade` for what its feature costs:
 * `brigade-zod`, zod request and response schemas on the echo endpoint; `brigade-traced`, the
 * OpenTelemetry SDK registered in both processes (spans made, batched, then dropped);
 * `brigade-metrics`, the handler's Prometheus metrics on; `brigade-middleware`, one app
 * middleware that only calls `next()`.
 */
export type Implementation =
  | 'brigade'
  | 'brigade-zod'
  | 'brigade-middleware'
  | 'brigade-traced'
  | 'brigade-metrics'
  | 'raw'
  | 'raw-noasynctraces';

/** True for Brigade and its variants. */
export function isBrigade(impl: Implementation): boolean {
  return impl.startsWith('brigade');
}
export type Scenario = 'request' | 'event' | 'durable' | 'idle';

/** What the handler sends on bench.done once it counted every event. */
export interface HandlerReport {
  readonly events: number;
  readonly cpuNsPerEvent: number;
}

/** One measurement, printed by the load generator as a JSON line. */
export interface Measurement {
  readonly ops: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Latencies in microseconds, for request-reply. */
  readonly p50?: number;
  readonly p99?: number;
  /** Events: the handler process's CPU time per event (user and system), in nanoseconds. */
  readonly handlerCpuNs?: number;
  /** Events: the load generator's CPU time per event sent, from the first send to the report. */
  readonly senderCpuNs?: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
