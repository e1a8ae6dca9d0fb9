import type { HandlerKind, Middleware } from '../common/middleware';
import type { Schema } from '../common/schema';
import type { PayloadEncoding } from '../metadata/handler-options';

/** A validated handler with every default resolved. Built once at start; read on every message. */
export interface HandlerDefinition {
  readonly kind: HandlerKind;
  /** The handler's name in the NATS Service API; unique within its service. */
  readonly name: string;
  readonly method: string;
  readonly subject: string;
  /** The resolved queue group; `undefined` means broadcast. */
  readonly queue: string | undefined;
  readonly concurrency: number;
  readonly maxPending: number;
  /** How long the handler may work on a message, in ms (see `HandlerOptions.timeout`). */
  readonly timeoutMs: number;
  /** How long it may run on past that before its slot is released, in ms. */
  readonly timeoutGraceMs: number;
  readonly payload: PayloadEncoding;
  readonly metadata: Readonly<Record<string, string>>;
  /** Set for durable (JetStream) event handlers. */
  readonly durable: DurableDefinition | undefined;
  /** The service's middleware, then the handler's; outermost first. */
  readonly middleware: readonly Middleware[];
  /** What the request or event must pass before the handler runs. */
  readonly input?: Schema;
  /** What an endpoint's reply must pass before it is sent. */
  readonly output?: Schema;
}

/** A durable handler's consumer, with every default resolved. */
export interface DurableDefinition {
  readonly stream: string;
  readonly consumer: string;
  readonly maxDeliver: number;
  /** Redelivery delays after failures, in ms; the last repeats. */
  readonly backoffMs: readonly number[];
  readonly ackWaitMs: number;
  readonly maxAckPending: number;
  /** The key messages are handled in order by, if any. */
  readonly orderBy: OrderKey | undefined;
  /** When the consumer pauses, if ever. */
  readonly breaker: BreakerDefinition | undefined;
}

/** A validated `breaker`: durations in ms. */
export interface BreakerDefinition {
  readonly failures: number;
  readonly withinMs: number;
  readonly pauseMs: number;
  /** Whether a failure counts. */
  readonly counts: (error: unknown) => boolean;
}

/** A validated `orderBy`: a subject token's index (0 the first) or a header name. */
export type OrderKey =
  | { readonly kind: 'subject-token'; readonly index: number }
  | { readonly kind: 'header'; readonly name: string };

export const DURABLE_DEFAULTS = {
  maxDeliver: 5,
  backoff: ['1s', '5s', '30s'],
  ackWait: '30s',
  maxAckPending: 1_000,
  breaker: { failures: 5, within: '30s', pause: '1m' },
} as const;

export type ServiceClass = abstract new (...args: never[]) => object;

/** A validated service: what the runtime binds. */
export interface ServiceDefinition {
  readonly target: ServiceClass;
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly handlers: readonly HandlerDefinition[];
}

/** The handler timeouts when neither the handler nor its service sets one. */
export const TIMEOUT_DEFAULTS = {
  timeout: '30s',
  durableTimeout: '5m',
  timeoutGrace: '5s',
} as const;

/** App-wide defaults the explorer falls back to. */
export interface HandlerDefaults {
  readonly concurrency: number;
  readonly maxPending: number;
}

export const DEFAULT_ENDPOINT_QUEUE = 'q';
export const DEFAULT_HANDLER_LIMITS: HandlerDefaults = { concurrency: 64, maxPending: 10_000 };
