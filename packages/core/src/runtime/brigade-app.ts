import {
  container as rootContainer,
  type DependencyContainer,
  type InjectionToken,
} from 'tsyringe';
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
import { JetStreamKeyValueStores } from '../jetstream/jetstream-key-value';
import { KeyValueStores } from '../jetstream/key-value';
import { lazyJetStream, provisionJetStream } from '../jetstream/jetstream-setup';
import { Bus } from './bus';
import { NatsBus } from './nats-bus';
import { createBindings } from './binding-factory';
import { middlewareProblem } from '../common/middleware';
import { ServiceLifecycle } from './service-lifecycle';
import type { Binding } from './handler-binding';
import { ServiceApi } from './service-api';
import { AppHealth, OpsServer, opsProblem } from './ops-server';
import type { HandlerStats } from './handler-stats';
import { createLogger, type Logger } from '../common/logger';
import { AppMetrics } from './metrics';
import { tracerFor } from './tracing';

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
const ABORT_SETTLE_MS = 1_000;

/** A handler's definition with its live counters. */
export interface HandlerSnapshot {
  readonly service: string;
  readonly handler: ServiceDefinition['handlers'][number];
  readonly stats: Readonly<HandlerStats>;
}

/** A running set of services on one NATS connection. Made by `Brigade.start()`. */
export class BrigadeApp {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly services: readonly ServiceDefinition[],
    readonly bus: Bus,
    /** The dead letters of this app's durable handlers (and any other's on the same stream). */
    readonly deadLetters: DeadLetters,
    /** JetStream key-value buckets on the app's connection (also injectable). */
    readonly keyValues: KeyValueStores,
    readonly logger: Logger,
    private readonly transport: NatsTransport,
    private readonly bindings: readonly Binding[],
    /** Internal bindings (dead-letter backstops): drained with the others, not in `stats()`. */
    private readonly backstops: readonly Binding[],
    private readonly serviceApi: ServiceApi,
    private readonly shutdown: AbortController,
    private readonly graceMs: number,
    private readonly lifecycle: ServiceLifecycle,
    private readonly scope: DependencyContainer,
    private readonly probes: {
      readonly health: AppHealth;
      readonly ops: OpsServer | undefined;
      readonly metrics: AppMetrics | undefined;
    },
  ) {}

  /**
   * Validates the services, connects, resolves each service from the container and subscribes
   * every handler. Resolves once every subscription is live on the server; on any failure the
   * connection is closed and the error names what was wrong.
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
    // The probes answer from the first moment: not ready while starting.
    const health = new AppHealth();
    const ops =
      options.ops &&
      (await OpsServer.listen(options.ops, () => health.readiness(), logger, telemetry.metrics));
    let transport: NatsTransport;
    try {
      transport = await NatsTransport.connect(options.nats ?? {}, appName, logger);
    } catch (err) {
      await ops?.close();
      throw err;
    }
    let lifecycle: ServiceLifecycle | undefined;
    let scope: DependencyContainer | undefined;
    try {
      const jetstream = lazyJetStream(transport);
      const durable = await provisionJetStream(
        jetstream,
        streams,
        services,
        deadLetterSettings,
        logger,
      );
      const bus = new NatsBus(transport, jetstream, requestTimeoutMs, options.outgoing, telemetry);
      const deadLetters = new DeadLetterStream(jetstream, deadLetterSettings);
      const keyValues = new JetStreamKeyValueStores(jetstream, logger);
      scope = (options.container ?? rootContainer).createChildContainer();
      scope.register(token(Bus), { useValue: bus });
      scope.register(token(DeadLetters), { useValue: deadLetters });
      scope.register(token(KeyValueStores), { useValue: keyValues });
      const shutdown = new AbortController();
      const { bindings, backstops, instances } = createBindings(
        services,
        scope,
        transport,
        durable,
        { logger, shutdownSignal: shutdown.signal },
        options.middleware ?? [],
        telemetry,
      );
      telemetry.metrics?.attach({
        bindings,
        connection: transport,
        consumerState: async (stream, consumer) =>
          (await jetstream()).consumerState(stream, consumer),
      });
      lifecycle = new ServiceLifecycle(instances, logger);
      await lifecycle.start();
      for (const binding of [...bindings, ...backstops]) await binding.bind();
      const serviceApi = new ServiceApi(
        transport,
        services.map((definition) => ({
          definition,
          handlers: bindings
            .filter((b) => b.invoker.serviceName === definition.name)
            .map((b) => b.invoker),
        })),
      );
      serviceApi.bind();
      await transport.flush();
      const app = new BrigadeApp(
        services,
        bus,
        deadLetters,
        keyValues,
        logger,
        transport,
        bindings,
        backstops,
        serviceApi,
        shutdown,
        graceMs,
        lifecycle,
        scope,
        { health, ops, metrics: telemetry.metrics },
      );
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
      await lifecycle?.stop();
      await transport.close().catch(() => undefined);
      await scope?.dispose();
      await ops?.close();
      throw err;
    }
  }

  /** Live counters of every handler. */
  stats(): HandlerSnapshot[] {
    return this.bindings.map(({ invoker }) => ({
      service: invoker.serviceName,
      handler: invoker.definition,
      stats: invoker.stats.snapshot(),
    }));
  }

  /** Resolves when the connection closes: after `stop()`, or when NATS gave up reconnecting. */
  async closed(): Promise<void> {
    const err = await this.transport.closed();
    if (err && !this.stopping) throw err;
  }

  /** The NATS Service API instance id of each service of the app, by service name. */
  get instanceIds(): ReadonlyMap<string, string> {
    return this.serviceApi.ids;
  }

  /** @internal For `runApp`: ready once its `started` hook finished as well. */
  markReady(): void {
    this.probes.health.started(this.transport);
  }

  /**
   * The app's metrics in Prometheus's text format, as `/metrics` serves them; `undefined` when
   * metrics are off. For serving them from a server of your own.
   */
  metrics(): Promise<string | undefined> {
    return this.probes.metrics?.text() ?? Promise.resolve(undefined);
  }

  /** The port `/livez`, `/readyz` and `/metrics` are served on, when the app has `ops`. */
  get opsPort(): number | undefined {
    return this.probes.ops?.port;
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
    this.stopping ??= this.drainAndClose();
    return this.stopping;
  }

  private async drainAndClose(): Promise<void> {
    this.probes.health.stopping();
    this.logger.info('stopping: no new messages, finishing in-flight ones');
    this.serviceApi.unbind();
    await Promise.all(
      this.allBindings.map((b) =>
        b.unbind().catch((err: unknown) => this.logger.warn({ err }, 'unsubscribe failed')),
      ),
    );
    const finished = await waitAtMost(this.idle(), this.graceMs);
    if (!finished) {
      this.shutdown.abort(new UnavailableError('the service is shutting down'));
      const abandoned = this.allBindings.reduce(
        (n, b) => n + b.abandonWaiting('the service is shutting down'),
        0,
      );
      this.logger.warn(
        { abandoned, graceMs: this.graceMs },
        'grace period over: aborting in-flight handlers',
      );
      // Handlers that honour the signal settle (and reply) at once; wait for them, boundedly.
      const settled = await waitAtMost(this.idle(), ABORT_SETTLE_MS);
      if (!settled) {
        const running = this.allBindings.reduce((n, b) => n + b.busy, 0);
        this.logger.error({ running }, 'handlers ignored the abort signal; closing without them');
      }
    }
    for (const binding of this.allBindings) binding.flushLog();
    await this.lifecycle.stop();
    await this.transport.close();
    await this.scope.dispose();
    await this.probes.ops?.close();
    this.logger.info('stopped');
  }

  private get allBindings(): readonly Binding[] {
    return [...this.bindings, ...this.backstops];
  }

  private idle(): Promise<unknown> {
    return Promise.all(this.allBindings.map((b) => b.idle()));
  }
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
