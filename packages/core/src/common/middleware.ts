import type { MessageContext } from './message-context';

export type HandlerKind = 'endpoint' | 'event';

/** The handler a middleware wraps, as it was defined. */
export interface HandlerInfo {
  /** The service's name. */
  readonly service: string;
  /** The handler's name in the NATS Service API. */
  readonly name: string;
  readonly kind: HandlerKind;
  /** The subscription subject (wildcards included; the message's own is `context.subject`). */
  readonly subject: string;
  /** True for a durable (JetStream) event handler. */
  readonly durable: boolean;
}

/** One message on its way through a handler's pipeline. */
export interface Invocation {
  readonly handler: HandlerInfo;
  readonly context: MessageContext;
  /** The decoded payload (bytes for `payload: 'raw'`); replace it for the steps inside. */
  payload: unknown;
}

/**
 * A step around a handler's run, for every kind of handler. `next()` runs the rest of the
 * pipeline (the middleware inside this one, then the handler) and resolves with its result or
 * rejects with its failure. What the middleware returns is the result (an endpoint's reply);
 * what it throws fails the message as a handler's throw would (a `ServiceError` answers with its
 * status; a durable handler's failure is retried, a `PermanentError` dead-lettered). Not calling
 * `next()` skips the handler. It runs inside the message's context: what it sends through the
 * `Bus` carries the message's trace and correlation headers.
 *
 * Return (or await) `next()`. One that calls it and forgets to (`(inv, next) => { next(); }`)
 * does not compile; if it slips through (an `async` layer, JavaScript), the message is still
 * settled only once the handler finished, and if the handler failed, that failure counts: it is
 * logged, counted, a durable message is retried, and an endpoint's caller gets it, unless the
 * middleware returned a value of its own, which the caller then gets.
 */
export type Middleware = Layer<Invocation>;

/**
 * What a layer may return: any value (`undefined` too, and a promise of anything), but not
 * `void`. So the commonest middleware mistake, calling `next()` without returning it
 * (`(inv, next) => { next(); }`), does not compile, while `return next()`, `return undefined`
 * and async layers do. (`unknown` would accept `void`; this union spells out what it holds.)
 * At run time the same mistake is caught too: see `Middleware`.
 */
export type LayerResult = string | number | boolean | bigint | symbol | object | null | undefined;

/** A layer of a chain: gets the value passed down and `next`, which runs the layers inside. */
export type Layer<T> = (value: T, next: () => Promise<unknown>) => LayerResult;

/** A message the `Bus` is about to send, on its way through the outgoing middleware. */
export interface OutgoingMessage {
  readonly operation: 'publish' | 'durable-publish' | 'request' | 'request-many';
  readonly subject: string;
  /** The payload before encoding; replace it for the steps inside. */
  payload: unknown;
  /**
   * The headers that go out, the trace and correlation of the message being handled included;
   * add or change them for the steps inside (a tracer sets its own `traceparent` here).
   */
  headers: Record<string, string | readonly string[]>;
  /** The encoded body's size in bytes, once it is encoded: for a layer, after `next()`. */
  bodySize?: number;
}

/**
 * A step around what the `Bus` sends: `publish` (core or durable), `request` and `requestMany`.
 * `next()` sends and resolves with the outcome (the reply, the publish acknowledgement, the
 * gathered replies, or nothing for a core publish) or rejects with the failure; return it, or
 * throw to fail the call. The seam for tracing and metrics of outgoing messages.
 */
export type OutgoingMiddleware = Layer<OutgoingMessage>;

/** Why `value` is no middleware list, or `undefined` when it is one. */
export function middlewareProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((m) => typeof m !== 'function'))
    return 'middleware is a list of functions (invocation, next) => result';
  return undefined;
}
