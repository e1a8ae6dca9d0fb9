import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { HandlerDefinition } from '../discovery/handler-definition';
import type { ServiceError } from '../common/errors';
import { clip } from '../common/clip';
import type { Logger } from '../common/logger';
import type { OutgoingMessage } from '../common/middleware';
import type { ConsumerState } from '../jetstream/jetstream-context';
import type { HandlerCounters } from '../pipeline/handler-stats';
import { type HistogramSeries, type Labels, SeriesHistogram } from './histogram';
import { errorTypeOf, operationOf } from './tracing';

/** The content type of `/metrics`: Prometheus's text format. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Subjects sent to that get a `messaging_destination_name` of their own; later ones are `_other`. */
export const MAX_DESTINATIONS = 1_000;
const OTHER_DESTINATION = '_other';

/** How long a scrape waits for the server's consumer counts before leaving them out. */
const CONSUMER_STATE_TIMEOUT_MS = 2_000;

const HANDLER_LABELS = ['service', 'handler'] as const;
const MESSAGING_LABELS = [
  'messaging_system',
  'messaging_destination_name',
  'messaging_operation_name',
  'messaging_consumer_group_name',
  'service',
  'handler',
] as const;

/** A durable consumer's counts, as one scrape read them. */
interface ConsumerReading {
  readonly stream: string;
  readonly consumer: string;
  readonly state: ConsumerState;
}

/** A handler as the metrics read it when scraped. */
export interface ObservedHandler {
  readonly definition: HandlerDefinition;
  readonly service: string;
  readonly stats: HandlerCounters;
  /** Messages running, and waiting for a slot (or behind their key). */
  load(): { running: number; waiting: number };
}

/** What the app's metrics read when scraped. */
export interface MetricSources {
  readonly handlers: readonly ObservedHandler[];
  readonly connection: { readonly state: string; readonly reconnects: number };
  /** The server's counts for a durable consumer. */
  consumerState(stream: string, consumer: string): Promise<ConsumerState>;
}

/**
 * An app's Prometheus metrics, in a registry of its own (two apps in one process do not mix):
 * the OpenTelemetry messaging conventions' instruments under their Prometheus names, Brigade's
 * own gauges and counters, and Node's process metrics. On the message path only durations are
 * observed; counts are read from those series, and everything else from the app's counters,
 * when scraped.
 */
export class AppMetrics {
  readonly registry = new Registry();
  private readonly process: SeriesHistogram;
  private readonly operation: SeriesHistogram;
  /** The operation series by operation, subject and error type, as sends look them up. */
  private readonly sendSeries = new Map<string, HistogramSeries>();
  private sources: MetricSources | undefined;
  /** Subjects sent to that have a label of their own. */
  private readonly destinations = new Set<string>();
  private warnedDestinations = false;

  constructor(
    private readonly appName: string,
    private readonly logger: Logger,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.process = new SeriesHistogram(
      'messaging_process_duration_seconds',
      'Time a handler took to process a message, decoding and middleware included.',
      this.registry,
    );
    this.operation = new SeriesHistogram(
      'messaging_client_operation_duration_seconds',
      'Time a publish (until written, or stored for a durable one) or a request (until answered) took.',
      this.registry,
    );
    // A send's count is its duration series' count: read from it when scraped, not kept twice.
    const operation = this.operation;
    new Counter({
      name: 'messaging_client_sent_messages_total',
      help: 'Messages the app published or sent as requests.',
      labelNames: [
        'messaging_system',
        'messaging_destination_name',
        'messaging_operation_name',
        'service',
        'error_type',
      ],
      registers,
      collect() {
        this.reset();
        for (const series of operation.all()) this.inc(series.labels, series.count);
      },
    });
    const perHandler = (
      name: string,
      help: string,
      read: (handler: ObservedHandler) => number,
      Type: typeof Counter | typeof Gauge = Gauge,
      labelNames: readonly string[] = HANDLER_LABELS,
      labelsOf: (handler: ObservedHandler) => Labels = handlerLabels,
    ): void => {
      const collectInto = (metric: Counter | Gauge): void => {
        metric.reset();
        for (const handler of this.sources?.handlers ?? []) {
          const value = read(handler);
          if (metric instanceof Gauge) metric.set(labelsOf(handler), value);
          else metric.inc(labelsOf(handler), value);
        }
      };
      new Type({
        name,
        help,
        labelNames,
        registers,
        collect() {
          collectInto(this);
        },
      });
    };
    perHandler(
      'messaging_client_consumed_messages_total',
      'Messages delivered to a handler, those turned away included.',
      (h) => h.stats.numRequests,
      Counter,
      MESSAGING_LABELS,
      (h) => messagingLabels(h.definition, h.service),
    );
    perHandler(
      'brigade_handler_in_flight',
      'Messages a handler is running.',
      (h) => h.load().running,
    );
    perHandler(
      'brigade_handler_waiting',
      'Messages waiting for a free slot of a handler (or behind their key).',
      (h) => h.load().waiting,
    );
    perHandler(
      'brigade_events_dropped_total',
      'Core events dropped unhandled: too many waiting, unreadable headers, or the app stopped.',
      (h) => h.stats.dropped,
      Counter,
    );
    perHandler(
      'brigade_handler_abandoned_total',
      'Handlers given up on: still running their grace after their deadline, their slot given to the next message.',
      (h) => h.stats.abandoned,
      Counter,
    );
    perHandler(
      'brigade_handler_abandoned_running',
      'Handlers given up on that are still running.',
      (h) => h.stats.abandonedRunning,
    );
    perHandler(
      'brigade_breaker_opened_total',
      'Times a durable handler’s breaker opened after transient failures: its consumer paused.',
      (h) => h.stats.breakerOpened,
      Counter,
    );
    perHandler(
      'brigade_breaker_closed_total',
      'Times a durable handler’s breaker closed after its pause: its consumer resumed.',
      (h) => h.stats.breakerClosed,
      Counter,
    );
    perHandler(
      'brigade_dead_lettered_total',
      'Durable messages copied to the dead-letter stream.',
      (h) => h.stats.deadLettered,
      Counter,
    );
    this.consumerGauges(registers);
    const sources = (): MetricSources | undefined => this.sources;
    new Gauge({
      name: 'brigade_nats_connection_state',
      help: 'The NATS connection: 1 for the state it is in, 0 for the others.',
      labelNames: ['state'],
      registers,
      collect() {
        const state = sources()?.connection.state;
        for (const s of ['connected', 'reconnecting', 'closed'])
          this.set({ state: s }, s === state ? 1 : 0);
      },
    });
    new Counter({
      name: 'brigade_nats_reconnects_total',
      help: 'Times the NATS connection was restored after a loss.',
      registers,
      collect() {
        this.reset();
        this.inc(sources()?.connection.reconnects ?? 0);
      },
    });
  }

  /** Starts reading the app's state at scrape time. */
  attach(sources: MetricSources): void {
    this.sources = sources;
  }

  /** What a handler's invoker records into. */
  handler(definition: HandlerDefinition, service: string): HandlerMetrics {
    return new HandlerMetrics(this.process, messagingLabels(definition, service));
  }

  /** Records a send the Bus made: its duration from `startedAt` (ms) and its outcome. */
  recordSend(message: OutgoingMessage, startedAt: number, error?: unknown): void {
    const operation = operationOf(message);
    const errorType = error === undefined ? '' : errorTypeOf(error);
    const destination = this.destinationLabel(message.subject);
    const key = `${operation} ${destination} ${errorType}`;
    let series = this.sendSeries.get(key);
    if (!series) {
      series = this.operation.series({
        messaging_system: 'nats',
        messaging_destination_name: destination,
        messaging_operation_name: operation,
        service: this.appName,
        error_type: errorType,
      });
      this.sendSeries.set(key, series);
    }
    series.observe((performance.now() - startedAt) / 1000);
  }

  /**
   * The subject as a label, until `MAX_DESTINATIONS` subjects have one; later ones count as
   * `_other`, said once in the log. Subjects with an id in them (`orders.8f3a.paid`) would
   * otherwise grow a series per id, in this process and in Prometheus.
   */
  private destinationLabel(subject: string): string {
    if (this.destinations.has(subject)) return subject;
    if (this.destinations.size < MAX_DESTINATIONS) {
      this.destinations.add(subject);
      return subject;
    }
    if (!this.warnedDestinations) {
      this.warnedDestinations = true;
      this.logger.warn(
        { subject: clip(subject), max: MAX_DESTINATIONS },
        `metrics: more than ${MAX_DESTINATIONS} subjects sent to; further ones are counted as messaging_destination_name="_other" (an id in a subject makes a series per id)`,
      );
    }
    return OTHER_DESTINATION;
  }

  /** The metrics in Prometheus's text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  private consumerGauges(registers: Registry[]): void {
    const names = {
      pending: [
        'brigade_consumer_pending',
        'Messages of the stream a durable consumer has not been sent yet (its lag).',
      ],
      ackPending: [
        'brigade_consumer_ack_pending',
        'Messages sent to a durable consumer and not yet acknowledged.',
      ],
      redelivered: [
        'brigade_consumer_redelivered',
        'Messages sent to a durable consumer more than once and not yet acknowledged.',
      ],
    } as const;
    let reading: Promise<ConsumerReading[]> | undefined;
    // The three gauges read the server once per scrape between them.
    const read = (): Promise<ConsumerReading[]> =>
      (reading ??= this.readConsumers().finally(() => setImmediate(() => (reading = undefined))));
    for (const [field, [name, help]] of Object.entries(names) as [
      keyof ConsumerState,
      readonly [string, string],
    ][]) {
      new Gauge({
        name,
        help,
        labelNames: ['stream', 'consumer'],
        registers,
        async collect() {
          this.reset();
          for (const { stream, consumer, state } of await read())
            this.set({ stream, consumer }, state[field]);
        },
      });
    }
  }

  private async readConsumers(): Promise<ConsumerReading[]> {
    const states: ConsumerReading[] = [];
    const sources = this.sources;
    if (!sources) return states;
    const durables = sources.handlers.flatMap((h) => h.definition.durable ?? []);
    await Promise.all(
      durables.map(async ({ stream, consumer }) => {
        try {
          const state = await withTimeout(
            sources.consumerState(stream, consumer),
            CONSUMER_STATE_TIMEOUT_MS,
          );
          states.push({ stream, consumer, state });
        } catch (err) {
          this.logger.debug({ err, stream, consumer }, 'consumer state unavailable for /metrics');
        }
      }),
    );
    return states;
  }
}

/** The process-duration series of one handler: one for successes, one per error type. */
export class HandlerMetrics {
  private readonly succeeded: HistogramSeries;
  private readonly failed = new Map<string, HistogramSeries>();

  constructor(
    private readonly histogram: SeriesHistogram,
    private readonly labels: Labels,
  ) {
    this.succeeded = histogram.series({ ...labels, error_type: '' });
  }

  observe(startedAt: number, failure: ServiceError | undefined): void {
    const seconds = (performance.now() - startedAt) / 1000;
    if (failure === undefined) {
      this.succeeded.observe(seconds);
      return;
    }
    const type = errorTypeOf(failure);
    let series = this.failed.get(type);
    if (!series) {
      series = this.histogram.series({ ...this.labels, error_type: type });
      this.failed.set(type, series);
    }
    series.observe(seconds);
  }
}

function handlerLabels(handler: ObservedHandler): Labels {
  return { service: handler.service, handler: handler.definition.name };
}

function messagingLabels(definition: HandlerDefinition, service: string): Labels {
  return {
    messaging_system: 'nats',
    // The subscription subject, wildcards and all: one series per handler, not per subject.
    messaging_destination_name: definition.subject,
    messaging_operation_name: 'process',
    messaging_consumer_group_name: definition.durable?.consumer ?? definition.queue ?? '',
    service,
    handler: definition.name,
  };
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
