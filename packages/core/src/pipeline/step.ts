import type { ServiceError } from '../common/errors';
import type { IncidentLog } from '../common/incident-log';
import type { HandlerDefinition } from '../discovery/handler-definition';
import type { HandlerContext } from './handler-context';
import type { HandlerCounters } from './handler-stats';

/**
 * What runs inside a step: the steps inside it, the handler's method last. Gets the payload as the
 * step hands it on (the raw body for the outermost) and returns the result, or a promise of it.
 */
export type Next = (payload: unknown, ctx: HandlerContext) => unknown;

/** How a durable message was settled. */
export type DurableOutcome =
  | { readonly kind: 'ack' }
  | { readonly kind: 'nak'; readonly delayMs: number }
  | { readonly kind: 'dead-letter'; readonly reason: string };

/** The handler a step is built for. */
export interface StepHandler {
  readonly definition: HandlerDefinition;
  readonly serviceName: string;
  /** The counters the Service API's `STATS` reports. */
  readonly stats: HandlerCounters;
  /** The handler's bounded log. */
  readonly incidents: IncidentLog;
  /** `service#method on 'subject'`, for log lines. */
  where(): string;
}

/**
 * One concern of a handler's pipeline (decoding, schemas, tracing, metrics, the stats ledger, the
 * user's middleware), built once per handler when the app starts. A step wraps what runs inside
 * it, watches each message's outcome, or both; user middleware is adapted to it.
 */
export interface Step {
  /** What runs in place of `next`, or `next` itself (untouched) when nothing is to be done. */
  wrap?(next: Next): Next;
  /**
   * Told once per message that ran, when its outcome is known: when the handler settled, or at
   * its deadline. `failure` is what the caller hears, `error` what was thrown (`undefined` both on
   * success; `error` may be an `UnwatchedFailure`).
   */
  finished?(ctx: HandlerContext, failure: ServiceError | undefined, error: unknown): void;
  /** Told how a durable message was settled (after `finished`). */
  settled?(ctx: HandlerContext, outcome: DurableOutcome): void;
  /** True when the step reads every message's `startedAt` (else a burst is timed by sample). */
  readonly timesEvery?: boolean;
}

/**
 * Builds a handler's step; `undefined` when its feature is off for that handler, so that nothing
 * of it is on the message path.
 */
export type StepFactory = (handler: StepHandler) => Step | undefined;
