import type {
  EndpointContract,
  EventContract,
  EventOf,
  ReceivedReplyOf,
  RequestOf,
} from '../common/contract';
import type { CodecError, ServiceError } from '../common/errors';
import type { PublishAck } from '../jetstream/publish-ack';
import type { HeaderInit } from '../transport/wire-message';
import type { Duration } from '../common/duration';

export interface PublishOptions {
  /** Headers to send; `traceparent`, `tracestate` and `correlation-id` are added while handling a message. */
  headers?: HeaderInit;
  /**
   * Sending to a contract entry: check the payload against its schema first and refuse it with a
   * `ValidationError` (422) before anything is sent. Default: true; `false` skips the check.
   */
  validate?: boolean;
}

export interface DurablePublishOptions extends PublishOptions {
  /** Publish through JetStream and wait for the stream to store the message. */
  durable: true;
  /** `Nats-Msg-Id`: a second publish with the same id within the duplicate window is stored once. Default: a random id. */
  msgId?: string;
  /** How long to wait for the stream's acknowledgement, in ms. Default: the app's `requestTimeoutMs`. */
  timeout?: number;
  /**
   * How long the stream keeps this message (`Nats-TTL`), in whole seconds of at least 1 (`'30s'`,
   * `'2h'`, `60_000`), or `'never'`: kept past the stream's `maxAge` too. The stream must allow it
   * (`allowMsgTtl`). Needs nats-server 2.11 or later: on an older one the publish fails with a
   * `ServerTooOldError` before anything is sent. Default: the stream's limits alone.
   */
  ttl?: Duration | 'never';
}

export interface RequestOptions extends PublishOptions {
  /** How long to wait for the reply, in ms. Default: the app's `requestTimeoutMs` (5,000). */
  timeout?: number;
  /** Return the reply's bytes instead of parsing them as JSON. */
  raw?: boolean;
}

export interface RequestManyOptions extends PublishOptions {
  /** How long to collect replies, in ms. Default: the app's `requestTimeoutMs`. */
  maxWait?: number;
  /** Stop after this many replies. Default: no limit. */
  maxReplies?: number;
  /**
   * Stop once this long (ms) passed after a reply without another: for "everyone who answers",
   * when answers come in a burst, without waiting out `maxWait`. Default: wait out `maxWait`.
   */
  stall?: number;
}

/**
 * One reply of a scatter-gather request: a value, the error a responder sent (`ServiceError`), or
 * a reply that could not be read (`CodecError`: malformed headers or body; `headers` is then empty
 * when they were the fault).
 */
export type GatheredReply<T> =
  | { readonly ok: true; readonly value: T; readonly headers: Record<string, string[]> }
  | {
      readonly ok: false;
      readonly error: ServiceError | CodecError;
      readonly headers: Record<string, string[]>;
    };

/**
 * The client side of Brigade, injectable into any service: events out, requests out. Inside a
 * handler it carries the message's trace and correlation headers onto everything it sends. The app
 * provides it; register a subclass of your own in a test to stand in for it.
 */
export abstract class Bus {
  /**
   * Publishes an event (a plain NATS publish, JSON body), resolving once it is handed to the
   * connection. With `{ durable: true }` it goes through JetStream instead and resolves once a
   * stream stored it; a subject no stream stores rejects with `NoStreamError`.
   */
  abstract publish<T = unknown>(
    subject: string,
    data: T,
    options: DurablePublishOptions,
  ): Promise<PublishAck>;
  abstract publish<T = unknown>(subject: string, data?: T, options?: PublishOptions): Promise<void>;
  /** Publishes the event of a contract entry, its payload typed and checked by the entry's schema. */
  abstract publish<E extends EventContract>(
    entry: E,
    data: EventOf<E>,
    options: DurablePublishOptions,
  ): Promise<PublishAck>;
  abstract publish<E extends EventContract>(
    entry: E,
    data: EventOf<E>,
    options?: PublishOptions,
  ): Promise<void>;

  /**
   * Sends a request and resolves with the reply body. Rejects with the `ServiceError` subclass of
   * an error reply, `NoRespondersError` when nobody listens, `RequestTimeoutError` past the timeout.
   */
  abstract request<TReply = unknown, TRequest = unknown>(
    subject: string,
    data?: TRequest,
    options?: RequestOptions,
  ): Promise<TReply>;
  /**
   * Sends a request to a contract entry: the request typed and checked by its schema before it is
   * sent, the reply typed by its response schema (and checked by the endpoint before it was sent).
   */
  abstract request<E extends EndpointContract>(
    entry: E,
    data: RequestOf<E>,
    options?: RequestOptions,
  ): Promise<ReceivedReplyOf<E>>;

  /**
   * Scatter-gather: one request, every reply that comes within `maxWait` (from all instances of
   * a broadcast endpoint, say). Error replies are returned, not thrown.
   */
  abstract requestMany<TReply = unknown, TRequest = unknown>(
    subject: string,
    data?: TRequest,
    options?: RequestManyOptions,
  ): Promise<GatheredReply<TReply>[]>;

  /** Resolves once everything published so far has reached the server. */
  abstract flush(): Promise<void>;
}
