/** What the decorators record. Discovery validates these and resolves defaults. */
import type { Duration } from '../common/duration';
import type { HandlerKind, Middleware } from '../common/middleware';
import type { Schema } from '../common/schema';

/** A queue group name, or `false` for no queue group: every instance gets every message. */
export type QueueGroupOption = string | false;

/** How a handler's payload is decoded. */
export type PayloadEncoding = 'json' | 'raw';

/** Options shared by `@Subscribe` and `@Endpoint`. */
export interface HandlerOptions {
  /**
   * The queue group. Default: for events the service's name, for endpoints `q` (the NATS
   * Service API default), unless `@Service({ queue })` says otherwise. `false` opts out.
   */
  queue?: QueueGroupOption;
  /** How many messages this handler works on at once. Default: the service's, else 64. */
  concurrency?: number;
  /**
   * How many messages may wait when `concurrency` are in flight. Past it, an endpoint replies 503
   * and an event is dropped with a warning and counted. Default: the service's, else 10,000.
   */
  maxPending?: number;
  /** `json` (default): the body is parsed as JSON; `raw`: the handler gets the bytes. */
  payload?: PayloadEncoding;
  /**
   * How long the handler may work on one message (ms or `'30s'`). At that deadline its
   * `ctx.signal` aborts and the message is answered for: a request gets 408 (a request that
   * carries its own deadline, as Brigade's do, keeps that one instead), a durable event is given
   * back to the server as a failed attempt (retried with backoff, dead-lettered after the last),
   * a core event counts as failed. The handler itself cannot be stopped and runs on; its late
   * result is discarded. Default: the service's, else `'30s'`, for durable handlers `'5m'`.
   */
  timeout?: Duration;
  /**
   * How long a handler may run on past its deadline before its slot goes to the next message
   * (ms or `'5s'`). It is then reported (a warning per interval) and counted in `STATS`
   * (`data.abandoned`) and `/metrics`. Default: the service's, else `'5s'`.
   */
  timeoutGrace?: Duration;
  /** Strings shown in the NATS Service API `INFO` response for this handler. */
  metadata?: Record<string, string>;
  /** Middleware of this handler, inside the app's and the service's; outermost first. */
  middleware?: readonly Middleware[];
}

/** Options of `@Endpoint`. */
export interface EndpointOptions extends HandlerOptions {
  /** The endpoint's name in the NATS Service API. Default: the method's name. */
  name?: string;
  /**
   * A Standard Schema the request must pass before the handler runs (else 422 with every issue);
   * the handler gets the schema's output. Given by the contract entry when bound to one.
   */
  request?: Schema;
  /** A Standard Schema the reply must pass before it is sent (else a 500, logged with the issues). */
  response?: Schema;
}

/** Read events from a JetStream stream through a durable pull consumer. */
export interface DurableOptions {
  /** The stream holding the events: declared in the app's `streams`, or existing on the server. */
  stream: string;
  /** The durable consumer's name, shared by every instance. Default: `<service>_<handler>`. */
  consumer?: string;
  /** Deliveries before a failing message goes to the dead-letter stream. Default: 5. */
  maxDeliver?: number;
  /** Delay before each redelivery after a failure (ms or `'5s'`); the last repeats. Default: `['1s', '5s', '30s']`. */
  backoff?: readonly Duration[];
  /**
   * How long the server waits for an acknowledgement before redelivering (the handler's process
   * died). Handlers running longer are kept alive with `working()`. Default: `'30s'`.
   */
  ackWait?: Duration;
  /** Messages handed out and not yet acknowledged, across all instances. Default: 1,000. */
  maxAckPending?: number;
  /**
   * Handle messages with the same key one after another, in the order they were delivered, while
   * different keys still run concurrently (up to `concurrency`): `{ subjectToken: 2 }` keys by the
   * subject's third token, `{ header: 'order-id' }` by a header. A message without the key runs
   * unordered. Ordering holds within one instance: the server hands a key's messages to whichever
   * instance pulls, so run one instance, or one consumer per partition, where it must hold across
   * them. A failed message waits out its backoff, so later messages of its key may go first.
   * Default: no ordering.
   */
  orderBy?: OrderKeyOption;
  /**
   * A circuit breaker: when the handler fails `failures` times within `within` for a reason
   * outside the message (a downstream outage), the consumer pauses for `pause`, so that messages
   * wait in the stream instead of spending their deliveries on the way to the dead letters. On
   * nats-server 2.11 or later the consumer is paused on the server, for every instance; on an
   * older one this instance stops pulling. Counted per instance. Default: none.
   */
  breaker?: BreakerOptions;
}

/** When a durable handler's consumer pauses, and for how long. */
export interface BreakerOptions {
  /** Transient failures that open the breaker. Default: 5. */
  failures?: number;
  /** ... within this window (ms or `'30s'`). Default: `'30s'`. */
  within?: Duration;
  /** How long the consumer pauses (ms or `'1m'`), at least 1 s. Default: `'1m'`. */
  pause?: Duration;
  /**
   * Which failures count. Default: a 503 (`UnavailableError`, or a 503 a service replied with),
   * no responders and a request time-out: the signs of a downstream outage. A failure of your own
   * kind (a `fetch` that failed: `TypeError: fetch failed`) counts when this says so, or when the
   * handler throws an `UnavailableError` for it.
   */
  when?: (error: unknown) => boolean;
}

/** Where a durable handler finds the key its messages are ordered by. */
export type OrderKeyOption = { readonly subjectToken: number } | { readonly header: string };

/** Options of `@Subscribe`. */
export interface SubscribeOptions extends HandlerOptions {
  /** The handler's name in the NATS Service API. Default: the method's name. */
  name?: string;
  /**
   * A Standard Schema the event must pass before the handler runs: an invalid event is counted
   * as a 422 (a durable one is dead-lettered at once, the issues in its reason); the handler gets
   * the schema's output. Given by the contract entry when bound to one.
   */
  schema?: Schema;
  /**
   * Make the subscription durable: nothing is lost while no instance runs, failures are retried
   * with backoff, and messages that keep failing land in the dead-letter stream. The consumer is
   * shared by the service's instances like a queue group, so `queue` does not apply.
   */
  durable?: DurableOptions;
}

/** One decorated method as recorded, before validation. */
export interface HandlerRecord {
  readonly kind: HandlerKind;
  readonly method: string;
  readonly subject: string;
  readonly options: Readonly<SubscribeOptions & EndpointOptions>;
}

/** Options of `@Service`. */
export interface ServiceOptions {
  /** The service's name: letters, digits, `_` and `-`. Also the default queue group of its events. */
  name: string;
  /** SemVer version, shown to the NATS Service API. Default: `0.0.0`. */
  version?: string;
  /** Free text shown in `INFO`. */
  description?: string;
  /** Strings shown in `INFO`, `PING` and `STATS`. Keys starting with `_nats` are reserved. */
  metadata?: Record<string, string>;
  /**
   * The queue group of every handler of the service that does not set its own; `false` makes
   * them all broadcast. Default: per handler kind (events: the service's name; endpoints: `q`).
   */
  queue?: QueueGroupOption;
  /** Default `concurrency` of the service's handlers. */
  concurrency?: number;
  /** Default `maxPending` of the service's handlers. */
  maxPending?: number;
  /** Default `timeout` of the service's handlers, durable ones included. */
  timeout?: Duration;
  /** Default `timeoutGrace` of the service's handlers. */
  timeoutGrace?: Duration;
  /** Middleware of every handler of the service, inside the app's; outermost first. */
  middleware?: readonly Middleware[];
}
