import { InvalidOptionError } from '../common/errors';
import { defineDeadLetters, type DeadLetterOptions } from '../jetstream/dead-letter-settings';
import { DeadLetterStream } from '../jetstream/dead-letter-stream';
import type { DeadLetters } from '../jetstream/dead-letters';
import type { JetStreamContext } from '../jetstream/jetstream-context';
import { lazyJetStream } from '../jetstream/jetstream-setup';
import { JetStreamKeyValueStores } from '../jetstream/jetstream-key-value';
import { JetStreamSchedules } from '../jetstream/jetstream-schedules';
import type { Schedules } from '../jetstream/schedules';
import type { KeyValueStores } from '../jetstream/key-value';
import type { ConnectionSettings } from '../transport/connection-settings';
import type { ConnectionStatus } from '../transport/connection-status';
import { NatsTransport } from '../transport/nats-transport';
import type { Bus } from '../bus/bus';
import { NatsBus } from '../bus/nats-bus';
import { createLogger, type Logger, type LoggerSettings } from '../common/logger';
import { middlewareProblem, type OutgoingMiddleware } from '../common/middleware';
import { tracerFor } from '../observability/tracing';
import { outgoingSteps } from './steps';

export interface ClientOptions {
  nats?: ConnectionSettings;
  logger?: LoggerSettings;
  /** Default request timeout of the `Bus`, in ms. Default: 5,000. */
  requestTimeoutMs?: number;
  /** Where the dead letters are, if not in the default stream. */
  deadLetter?: DeadLetterOptions;
  /** Middleware around everything the client's `Bus` sends; outermost first. */
  outgoing?: readonly OutgoingMiddleware[];
  /**
   * A PRODUCER or CLIENT span per send. Default: on when an OpenTelemetry SDK registered a
   * tracer provider before `connect()`; `false` turns it off, `true` uses the global tracer even
   * if none is registered yet.
   */
  tracing?: boolean;
}

/**
 * A connection without services: for scripts, gateways and tools that only send requests and
 * events, manage dead letters or schedules. The same `Bus`, errors and timeouts as inside a service.
 */
export class BrigadeClient {
  private constructor(
    private readonly transport: NatsTransport,
    private readonly jetstream: () => Promise<JetStreamContext>,
    readonly bus: Bus,
    readonly deadLetters: DeadLetters,
    readonly keyValues: KeyValueStores,
    /** Messages the server publishes later: at a time, after a delay, every interval, by cron. */
    readonly schedules: Schedules,
    readonly logger: Logger,
  ) {}

  static async connect(options: ClientOptions = {}): Promise<BrigadeClient> {
    const logger = createLogger(options.logger, 'brigade-client', 'warn');
    const issue = middlewareProblem(options.outgoing);
    if (issue) throw new InvalidOptionError(`outgoing: ${issue}`);
    if (options.tracing !== undefined && typeof options.tracing !== 'boolean')
      throw new InvalidOptionError(`tracing is true or false, got ${String(options.tracing)}`);
    const deadLetters = defineDeadLetters(options.deadLetter);
    const transport = await NatsTransport.connect(options.nats ?? {}, 'brigade-client', logger);
    const jetstream = lazyJetStream(transport);
    return new BrigadeClient(
      transport,
      jetstream,
      new NatsBus(
        transport,
        jetstream,
        options.requestTimeoutMs ?? 5_000,
        outgoingSteps({ tracer: tracerFor(options.tracing) }, options.outgoing),
      ),
      new DeadLetterStream(jetstream, deadLetters),
      new JetStreamKeyValueStores(jetstream, logger),
      new JetStreamSchedules(jetstream),
      logger,
    );
  }

  /** The dead letters of another dead-letter stream than the client's. */
  deadLettersIn(options: DeadLetterOptions): DeadLetters {
    return new DeadLetterStream(this.jetstream, defineDeadLetters(options));
  }

  /** The connection's state and the server it is connected to. */
  get connection(): ConnectionStatus {
    return this.transport.status;
  }

  /** Flushes what was published and closes the connection. */
  async close(): Promise<void> {
    await this.transport.close();
  }
}
