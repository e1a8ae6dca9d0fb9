import type { OpsOptions } from './ops-server';
import type { DependencyContainer } from 'tsyringe';
import type { ConnectionSettings } from '../transport/connection-settings';
import type { LoggerSettings } from '../common/logger';
import type { Middleware, OutgoingMiddleware } from '../common/middleware';
import type { StreamDeclaration } from '../discovery/stream-declaration';
import type { DeadLetterOptions } from '../jetstream/dead-letter-settings';

/** Everything `Brigade.start()` takes. */
export interface BrigadeOptions {
  /** The `@Service` classes to run. Discovery is this explicit list: nothing is found by scanning. */
  services: readonly (abstract new (...args: never[]) => object)[];
  /** How to reach NATS. */
  nats?: ConnectionSettings;
  /**
   * The tsyringe container services and their dependencies are resolved from. The app works in a
   * child of it, where it registers its `Bus`. Default: tsyringe's root container.
   */
  container?: DependencyContainer;
  logger?: LoggerSettings;
  /** Default request timeout of the `Bus`, in ms. Default: 5,000. */
  requestTimeoutMs?: number;
  /** Default `concurrency` of every handler. Default: 64. */
  concurrency?: number;
  /** Default `maxPending` of every handler. Default: 10,000. */
  maxPending?: number;
  /** How long `stop()` lets in-flight handlers finish before aborting their signals, in ms. Default: 10,000. */
  shutdownGraceMs?: number;
  /** JetStream streams to provision at start: created when missing, updated when changed. */
  streams?: readonly StreamDeclaration[];
  /** Where durable handlers' dead letters go. */
  deadLetter?: DeadLetterOptions;
  /** Middleware of every handler of the app, outside the services' and handlers'; outermost first. */
  middleware?: readonly Middleware[];
  /** Middleware around everything the app's `Bus` sends; outermost first. */
  outgoing?: readonly OutgoingMiddleware[];
  /**
   * Serve `/livez` and `/readyz` on this HTTP port, from the start of `start()` to the end of
   * `stop()`. `Brigade.run` takes it from `BRIGADE_OPS_PORT` when not given. Default: none.
   */
  ops?: OpsOptions;
  /**
   * OpenTelemetry spans: one per message handled and per message sent, by the messaging
   * semantic conventions. Default: on when an SDK registered a tracer provider before `start()`
   * (otherwise nothing on the message path touches OpenTelemetry); `false` turns it off, `true`
   * uses the global tracer even if none is registered yet.
   */
  tracing?: boolean;
  /**
   * Prometheus metrics, served on `/metrics` of the ops port. Default: on when the app has
   * `ops`; `false` turns them off (then `/metrics` answers 404).
   */
  metrics?: boolean;
}
