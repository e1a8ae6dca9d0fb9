import { container as rootContainer, type InjectionToken } from 'tsyringe';
import { DEFAULT_HANDLER_LIMITS, type ServiceDefinition } from '../discovery/handler-definition';
import { positiveIntegerProblem } from '../common/naming-rules';
import { exploreServices } from '../discovery/service-explorer';
import { InvalidOptionError, UnavailableError } from '../common/errors';
import { assertReflectMetadata } from '../metadata/reflect-guard';
import { NatsTransport } from '../transport/nats-transport';
import type { BrigadeOptions } from './brigade-options';
import { defineStreams } from '../discovery/stream-declaration';
import { defineDeadLetters } from '../jetstream/dead-letter-settings';
import { DeadLetterStream } from '../jetstream/dead-letter-stream';
import { DeadLetters } from '../jetstream/dead-letters';
import { JetStreamSchedules } from '../jetstream/jetstream-schedules';
import { Schedules } from '../jetstream/schedules';
import { JetStreamKeyValueStores } from '../jetstream/jetstream-key-value';
import { KeyValueStores } from '../jetstream/key-value';
import { lazyJetStream, provisionJetStream } from '../jetstream/jetstream-setup';
import { Bus } from '../bus/bus';
import { NatsBus } from '../bus/nats-bus';
import { createBindings } from '../delivery/binding-factory';
import { middlewareProblem } from '../common/middleware';
import { ServiceLifecycle } from './service-lifecycle';
import type { Binding } from '../delivery/binding';
import { ServiceApi } from './service-api';
import { AppHealth, OpsServer, opsProblem } from './ops-server';
import type { HandlerStats } from '../pipeline/handler-stats';
import { createLogger, type Logger } from '../common/logger';
import { AppMetrics, type ObservedHandler } from '../observability/metrics';
import { Closers } from './closers';
import { handlerSteps, outgoingSteps } from './steps';
import { tracerFor } from '../observability/tracing';

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
const ABORT_SETTLE_MS = 1_000;

/** A handler's definition with its live counters. */
export interface HandlerSnapshot {
  readonly service: string;
  readonly handler: ServiceDefinition['handlers'][number];
  readonly stats: Readonly<HandlerStats>;
}

/** What a started app is made of. */
interface AppParts {
  readonly services: readonly ServiceDefinition[];
  readonly bus: Bus;
  readonly deadLetters: DeadLetters;
  readonly keyValues: KeyValueStores;
  readonly schedules: Schedules;
  readonly logger: Logger;
  readonly transport: NatsTransport;
  /** The user's handlers' bindings (the dead-letter backstops are drained, not reported). */
  readonly bindings: readonly Binding[];
  readonly serviceApi: ServiceApi;
  readonly health: AppHealth;
  readonly ops: OpsServer | undefined;
  readonly metrics: AppMetrics | undefined;
  /** What start opened, closed again at stop. */
  readonly closers: Closers;
}

/** A running set of services on one NATS connection. Made by `Brigade.start()`. */
export class BrigadeApp {
  readonly services: readonly ServiceDefinition[];
  readonly bus: Bus;
  /** The dead letters of this app's durable handlers (and any other's on the same stream). */
  readonly deadLetters: DeadLetters;
  /** JetStream key-value buckets on the app's connection (also injectable). */
  readonly keyValues: KeyValueStores;
  /** Messages the server publishes later (also injectable). */
  readonly schedules: Schedules;
  readonly logger: Logger;
  private stopping: Promise<void> | undefined;

  private constructor(private readonly parts: AppParts) {
    this.services = parts.services;
    this.bus = parts.bus;
    this.deadLetters = parts.deadLetters;
    this.keyValues = parts.keyValues;
    this.schedules = parts.schedules;
    this.logger = parts.logger;
  }

  /**
   * Validates the services, connects, resolves each service from the container and subscribes
   * every handler. Resolves once every subscription is live on the server; on any failure what was
   * opened is closed again, last first (as at stop), and the error names what was wrong.
   */
  static async start(options: BrigadeOptions, readyWhenTold = false): Promise<BrigadeApp> {
    assertReflectMetadata();
    const limits = {
      concurrency:
        positive(options.concurrency, 'concurrency') ?? DEFAULT_HANDLER_LIMITS.concurrency,
      maxPending: positive(options.maxPending, 'maxPending') ?? DEFAULT_HANDLER_LIMITS.maxPending,
    };
    const requestTimeoutMs =
      positive(options.requestTimeoutMs, 'requestTimeoutMs') ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const graceMs =
      nonNegative(options.shutdownGraceMs, 'shutdownGraceMs') ?? DEFAULT_SHUTDOWN_GRACE_MS;
    const services = exploreServices(options.services, limits);
    const streams = defineStreams(options.streams);
    const deadLetterSettings = defineDeadLetters(options.deadLetter);
    const appName = services.map((s) => s.name).join(',');
    const logger = createLogger(options.logger, appName);

    for (const field of ['middleware', 'outgoing'] as const) {
      const issue = middlewareProblem(options[field]);
      if (issue) throw new InvalidOptionError(`${field}: ${issue}`);
    }
    const opsIssue = opsProblem(options.ops);
    if (opsIssue) throw new InvalidOptionError(opsIssue);
    for (const field of ['tracing', 'metrics'] as const) {
      const value = options[field];
      if (value !== undefined && typeof value !== 'boolean')
        throw new InvalidOptionError(`${field} is true or false, got ${String(value)}`);
    }
    const telemetry = {
      tracer: tracerFor(options.tracing),
      metrics:
        (options.metrics ?? options.ops !== undefined)
          ? new AppMetrics(appName, logger)
          : undefined,
    };
    const closers = new Closers(logger);
    try {
      // The probes answer from the first moment: not ready while starting.
      const health = new AppHealth();
      const ops =
        options.ops &&
        (await OpsServer.listen(options.ops, () => health.readiness(), logger, telemetry.metrics));
      if (ops) closers.push('the ops server', () => ops.close());
      const transport = await NatsTransport.connect(options.nats ?? {}, appName, logger);
      closers.push('the connection', () => transport.close());
      const jetstream = lazyJetStream(transport);
      const durable = await provisionJetStream(
        jetstream,
        streams,
        services,
        deadLetterSettings,
        logger,
      );
      const bus = new NatsBus(
        transport,
        jetstream,
        requestTimeoutMs,
        outgoingSteps(telemetry, options.outgoing),
      );
      const deadLetters = new DeadLetterStream(jetstream, deadLetterSettings);
      const keyValues = new JetStreamKeyValueStores(jetstream, logger);
      const schedules = new JetStreamSchedules(jetstream);
      const scope = (options.container ?? rootContainer).createChildContainer();
      closers.push('the container', () => scope.dispose());
      scope.register(token(Bus), { useValue: bus });
      scope.register(token(DeadLetters), { useValue: deadLetters });
      scope.register(token(KeyValueStores), { useValue: keyValues });
      scope.register(token(Schedules), { useValue: schedules });
      const shutdown = new AbortController();
      const { bindings, backstops, instances } = createBindings(
        services,
        scope,
        transport,
        durable,
        { logger, shutdownSignal: shutdown.signal },
        { handlers: handlerSteps(telemetry, options.middleware), backstops: handlerSteps() },
      );
      telemetry.metrics?.attach({
        handlers: bindings.map(observed),
        connection: transport,
        consumerState: async (stream, consumer) =>
          (await jetstream()).consumerState(stream, consumer),
      });
      const lifecycle = new ServiceLifecycle(instances, logger);
      closers.push('the services', () => lifecycle.stop());
      await lifecycle.start();
      const allBindings = [...bindings, ...backstops];
      closers.push('the handlers', () => drain(allBindings, { shutdown, graceMs, logger }));
      for (const binding of allBindings) await binding.bind();
      const serviceApi = new ServiceApi(
        transport,
        services.map((definition) => ({
          definition,
          handlers: bindings
            .filter((b) => b.invoker.serviceName === definition.name)
            .map((b) => b.invoker),
        })),
      );
      closers.push('the Service API', () => serviceApi.unbind());
      serviceApi.bind();
      await transport.flush();
      const app = new BrigadeApp({
        services,
        bus,
        deadLetters,
        keyValues,
        schedules,
        logger,
        transport,
        bindings,
        serviceApi,
        health,
        ops,
        metrics: telemetry.metrics,
        closers,
      });
      if (!readyWhenTold) health.started(transport);
      for (const s of services) {
        logger.info(
          {
            service: s.name,
            version: s.version,
            handlers: s.handlers.map((h) => `${h.kind} ${h.subject} [${describeDelivery(h)}]`),
          },
          `service '${s.name}' started`,
        );
      }
      return app;
    } catch (err) {
      await closers.closeAll();
      throw err;
    }
  }

  /** Live counters of every handler. */
  stats(): HandlerSnapshot[] {
    return this.parts.bindings.map(({ invoker }) => ({
      service: invoker.serviceName,
      handler: invoker.definition,
      stats: invoker.stats.snapshot(),
    }));
  }

  /** Resolves when the connection closes: after `stop()`, or when NATS gave up reconnecting. */
  async closed(): Promise<void> {
    const err = await this.parts.transport.closed();
    if (err && !this.stopping) throw err;
  }

  /** The NATS Service API instance id of each service of the app, by service name. */
  get instanceIds(): ReadonlyMap<string, string> {
    return this.parts.serviceApi.ids;
  }

  /** @internal For `runApp`: ready once its `started` hook finished as well. */
  markReady(): void {
    this.parts.health.started(this.parts.transport);
  }

  /**
   * The app's metrics in Prometheus's text format, as `/metrics` serves them; `undefined` when
   * metrics are off. For serving them from a server of your own.
   */
  metrics(): Promise<string | undefined> {
    return this.parts.metrics?.text() ?? Promise.resolve(undefined);
  }

  /** The port `/livez`, `/readyz` and `/metrics` are served on, when the app has `ops`. */
  get opsPort(): number | undefined {
    return this.parts.ops?.port;
  }

  /** True from the moment `stop()` is called. */
  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /**
   * Graceful stop: takes no new messages, lets in-flight and waiting handlers finish (at most
   * `shutdownGraceMs`, then their signals abort and waiting requests get 503), flushes what was
   * published and closes the connection. Safe to call more than once.
   */
  stop(): Promise<void> {
    this.stopping ??= this.closeAll();
    return this.stopping;
  }

  private async closeAll(): Promise<void> {
    this.parts.health.stopping();
    this.logger.info('stopping: no new messages, finishing in-flight ones');
    await this.parts.closers.closeAll();
    this.logger.info('stopped');
  }
}

/**
 * Stops the handlers taking messages and lets what is in flight or waiting finish: at most
 * `graceMs`, then their signals abort and waiting requests are turned away; then their bounded
 * logs say what they still hold.
 */
async function drain(
  bindings: readonly Binding[],
  { shutdown, graceMs, logger }: { shutdown: AbortController; graceMs: number; logger: Logger },
): Promise<void> {
  await Promise.all(
    bindings.map((b) =>
      b.unbind().catch((err: unknown) => logger.warn({ err }, 'unsubscribe failed')),
    ),
  );
  const idle = (): Promise<unknown> => Promise.all(bindings.map((b) => b.idle()));
  const finished = await waitAtMost(idle(), graceMs);
  if (!finished) {
    shutdown.abort(new UnavailableError('the service is shutting down'));
    const abandoned = bindings.reduce(
      (n, b) => n + b.abandonWaiting('the service is shutting down'),
      0,
    );
    logger.warn({ abandoned, graceMs }, 'grace period over: aborting in-flight handlers');
    // Handlers that honour the signal settle (and reply) at once; wait for them, boundedly.
    const settled = await waitAtMost(idle(), ABORT_SETTLE_MS);
    if (!settled) {
      const running = bindings.reduce((n, b) => n + b.busy, 0);
      logger.error({ running }, 'handlers ignored the abort signal; closing without them');
    }
  }
  for (const binding of bindings) binding.flushLog();
}

/** A binding as the metrics read it. */
function observed(binding: Binding): ObservedHandler {
  const { invoker } = binding;
  return {
    definition: invoker.definition,
    service: invoker.serviceName,
    stats: invoker.stats,
    load: () => binding.load(),
  };
}

function waitAtMost(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)));
  return Promise.race([work.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

function positive(value: number | undefined, name: string): number | undefined {
  const problem = positiveIntegerProblem(value);
  if (problem) throw new InvalidOptionError(`${name} ${problem}, got ${String(value)}`);
  return value;
}

function nonNegative(value: number | undefined, name: string): number | undefined {
  if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
    throw new InvalidOptionError(
      `${name} must be a number of milliseconds of at least 0, got ${String(value)}`,
    );
  }
  return value;
}

function describeDelivery(handler: ServiceDefinition['handlers'][number]): string {
  if (handler.durable) return `durable ${handler.durable.stream}/${handler.durable.consumer}`;
  return handler.queue === undefined ? 'broadcast' : `queue ${handler.queue}`;
}

/**
 * An abstract class as a tsyringe token: what a constructor parameter of that type resolves to
 * (decorator metadata names the class itself). tsyringe's typing admits only concrete classes.
 */
function token<T>(abstractClass: abstract new () => T): InjectionToken<T> {
  return abstractClass as unknown as InjectionToken<T>;
}
