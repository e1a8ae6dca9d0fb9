import type { HandlerDefinition } from '../discovery/handler-definition';
import { BadRequestError, DeadlineExceededError, type ServiceError } from '../common/errors';
import { jsonCodec } from '../transport/json.codec';
import { toServiceError } from './error-codec';
import { HandlerCounters } from './handler-stats';
import { HandlerContext, type ContextEnvironment } from './handler-context';
import { runInContext } from './context-scope';
import type { Logger } from '../common/logger';
import type { WireMessage } from '../transport/wire-message';
import type { Middleware } from '../common/middleware';
import { composeMiddleware, type HandlerMethod, UnwatchedFailure } from './middleware';
import { IncidentLog } from '../common/incident-log';
import { describeThrown, thrownKind, ThrownUndefined } from '../common/thrown';
import { clip } from '../common/clip';
import { withSchemas } from './schema-step';
import type { HandlerMetrics } from './metrics';
import type { Telemetry } from './telemetry';
import { type DurableOutcome, HandlerTracing } from './tracing';

/** In a burst, one message in this many is timed. */
const TIMING_STRIDE = 8;
/** `HandlerContext.startedAt` of a message left untimed. */
const UNTIMED = -1;

/**
 * Called once per message with the handler's outcome: an error, or for an endpoint whose caller
 * waits the encoded reply (`undefined` for everything else). Both when a middleware answered
 * while the handler behind it failed unwatched (an `UnwatchedFailure`): the caller gets the
 * answer, the failure is counted, and a durable message is retried.
 */
export type OutcomeCallback = (
  ctx: HandlerContext,
  error: unknown,
  reply: Uint8Array | undefined,
) => void;

/**
 * Runs one handler method for a message, whatever feeds it (a core subscription, a JetStream
 * pull): decodes the body (malformed JSON fails as 400 without calling the handler), runs the
 * middleware and the method inside the message's context, encodes an endpoint's reply, and
 * reports the outcome once, sync or async. Keeps the handler's stats. Bindings only move bytes
 * and settle (reply, ack, nak, dead-letter).
 *
 * Processing time: two clock reads cost about a twentieth of handling a small event, so in a burst
 * (messages started in the same turn of the event loop) only the first and then every
 * `TIMING_STRIDE`-th message is timed, and their mean stands for the rest. At low rates every
 * message starts its own burst, so every message is timed. Durable messages always are (their
 * heartbeat reads the start time), and so is every message while metrics are on.
 *
 * With tracing or metrics on, each message also gets a span and a duration observed; with both
 * off (no OpenTelemetry SDK, no metrics) nothing of them is on the path.
 */
export class HandlerInvoker {
  readonly stats = new HandlerCounters();
  /** The handler's per-message log lines (failures, drops, dead letters), kept bounded. */
  readonly incidents: IncidentLog;
  private readonly method: HandlerMethod;
  /** An endpoint: its result is encoded as the reply. */
  private readonly replies: boolean;
  private readonly alwaysTimed: boolean;
  private readonly tracing: HandlerTracing | undefined;
  private readonly metrics: HandlerMetrics | undefined;
  /** Messages started in the current turn of the event loop. */
  private burst = 0;
  /** The last clock reading (`performance.now()`), taken for the first message of each burst. */
  private clock = 0;
  private readonly endBurst = (): void => {
    this.burst = 0;
  };

  constructor(
    readonly definition: HandlerDefinition,
    instance: object,
    private readonly env: ContextEnvironment,
    /** The app's middleware, outside the service's and the handler's. */
    appMiddleware: readonly Middleware[] = [],
    telemetry: Telemetry = {},
  ) {
    const method = (instance as Record<string, HandlerMethod>)[definition.method] as HandlerMethod;
    this.method = composeMiddleware(
      [...appMiddleware, ...definition.middleware],
      {
        service: env.serviceName,
        name: definition.name,
        kind: definition.kind,
        subject: definition.subject,
        durable: definition.durable !== undefined,
      },
      withSchemas(definition, method.bind(instance)),
    );
    this.replies = definition.kind === 'endpoint';
    this.tracing = telemetry.tracer && new HandlerTracing(telemetry.tracer, definition);
    this.metrics = telemetry.metrics?.handler(definition, env.serviceName);
    this.alwaysTimed = definition.durable !== undefined || this.metrics !== undefined;
    this.incidents = new IncidentLog(env.logger, this.where());
  }

  /** The context of `msg` for this handler; `deadline` (a `performance.now()` time) for requests. */
  contextFor(msg: WireMessage, deadline?: number): HandlerContext {
    return new HandlerContext(msg, this.definition, this.env, deadline);
  }

  get serviceName(): string {
    return this.env.serviceName;
  }

  /** The app's logger, for what a binding reports about this handler. */
  get logger(): Logger {
    return this.env.logger;
  }

  invoke(ctx: HandlerContext, done: OutcomeCallback): void {
    ctx.startedAt = this.startTiming();
    // A request's deadline runs from its arrival; an event's from here, on the burst's clock.
    ctx.deadline ??= this.clock + this.definition.timeoutMs;
    const tracing = this.tracing;
    if (tracing) tracing.start(ctx);
    let payload: unknown;
    try {
      payload = this.definition.payload === 'raw' ? ctx.data : jsonCodec.decode(ctx.data);
    } catch (err) {
      done(ctx, new BadRequestError((err as Error).message), undefined);
      return;
    }
    let result: unknown;
    try {
      result = tracing
        ? tracing.run(ctx, () => runInContext(ctx, this.method, payload))
        : runInContext(ctx, this.method, payload);
    } catch (err) {
      done(ctx, err === undefined ? new ThrownUndefined() : err, undefined);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => this.succeed(ctx, value, done),
        (err: unknown) =>
          err instanceof UnwatchedFailure && err.result !== undefined
            ? this.succeed(ctx, err.result, done, err)
            : done(ctx, err === undefined ? new ThrownUndefined() : err, undefined),
      );
    } else {
      this.succeed(ctx, result, done);
    }
  }

  /**
   * Reports a result (with `failure`, one a middleware returned while the handler behind it
   * failed); an endpoint's result is encoded here, next to where the body was decoded.
   */
  private succeed(
    ctx: HandlerContext,
    value: unknown,
    done: OutcomeCallback,
    failure?: UnwatchedFailure,
  ): void {
    if (!this.replies || !ctx.replyExpected) {
      done(ctx, failure, undefined);
      return;
    }
    let reply: Uint8Array;
    try {
      reply = jsonCodec.encode(value);
    } catch (err) {
      done(ctx, failure ?? err, undefined);
      return;
    }
    done(ctx, failure, reply);
  }

  /** Counts a finished message; returns the caller-facing error when it failed (and logs it). */
  record(ctx: HandlerContext, error: unknown): ServiceError | undefined {
    const stats = this.stats;
    stats.numRequests++;
    stats.ran++;
    if (ctx.startedAt !== UNTIMED) {
      stats.timed++;
      stats.timedNs += Math.round((performance.now() - ctx.startedAt) * 1e6);
    }
    const failure = error === undefined ? undefined : this.recordError(ctx, error);
    this.metrics?.observe(ctx.startedAt, failure);
    if (ctx.span) {
      if (failure) this.tracing?.fail(ctx, failure, error);
      this.tracing?.done(ctx);
    }
    return failure;
  }

  /** How a durable message was settled: on its span, which ends then. */
  settled(ctx: HandlerContext, outcome: DurableOutcome): void {
    if (outcome.kind === 'dead-letter') this.stats.deadLettered++;
    if (ctx.span) this.tracing?.settled(ctx, outcome);
  }

  private recordError(ctx: HandlerContext, error: unknown): ServiceError {
    const unwatched = error instanceof UnwatchedFailure;
    const thrown: unknown = unwatched ? error.cause : error;
    const serviceError = toServiceError(thrown, ctx.abortReason());
    this.recordFailure(serviceError);
    const status = serviceError.status;
    // An unexpected throw, or a failure a middleware did not look at: its stack, where it came from.
    if (serviceError !== thrown || unwatched) {
      const what = describeThrown(thrown);
      const behind = unwatched
        ? ' behind a middleware that called next() without returning or awaiting it'
        : '';
      this.incidents.add(
        `${thrownKind(thrown)}${unwatched ? ' (unwatched)' : ''}`,
        'error',
        { ...ctx.logFields(), err: thrown, thrown: what, status },
        `${this.where()} failed${behind}: ${what}`,
        what,
      );
    } else if (status >= 500) {
      this.incidents.add(
        `${status}`,
        'warn',
        { ...ctx.logFields(), err: thrown, status },
        `${this.where()} answered ${status}`,
        `${status} ${clip(serviceError.message)}`,
      );
    } else {
      // An answer the handler chose (404, 409, 422...): what was said, not a stack trace.
      this.incidents.add(
        `${status}`,
        'info',
        { ...ctx.logFields(), status, code: serviceError.code, reason: serviceError.message },
        `${this.where()} answered ${status}`,
        `${status} ${clip(serviceError.message)}`,
      );
    }
    return serviceError;
  }

  /**
   * The error a message gets at its deadline: a request's caller waited long enough (its own
   * deadline, or the handler's timeout when it brought none), an event ran past the timeout.
   */
  deadlineError(ctx: HandlerContext, ownDeadline: boolean): DeadlineExceededError {
    if (ownDeadline) return new DeadlineExceededError("the caller's deadline passed");
    const timeout = this.definition.timeoutMs;
    return new DeadlineExceededError(
      this.definition.kind === 'endpoint'
        ? `no answer within the handler's timeout of ${timeout} ms`
        : `the handler ran past its timeout of ${timeout} ms`,
    );
  }

  /**
   * A handler still running at the end of its grace: given up on (its slot goes to the next
   * message), counted, and reported.
   */
  recordAbandoned(ctx: HandlerContext, now: number): void {
    const stats = this.stats;
    stats.abandoned++;
    const running = ++stats.abandonedRunning;
    const overMs = Math.round(now - (ctx.deadline as number));
    const text = `still running ${overMs} ms after its deadline, ${running} such running`;
    this.incidents.add(
      'abandoned',
      'warn',
      { ...ctx.logFields(), overMs, abandonedRunning: running },
      `${this.where()} is ${text}: its slot goes to the next message, its result will be discarded`,
      text,
    );
  }

  /** An abandoned handler settled at last: nothing of it is sent or counted again. */
  settledLate(): void {
    this.stats.abandonedRunning--;
  }

  /** Counts a message turned away without running (overload, expired deadline). */
  recordRejected(error: ServiceError): void {
    this.stats.numRequests++;
    this.recordFailure(error);
  }

  /** Counts an event dropped unhandled (turned away by a full queue, or unreadable). */
  recordDropped(error: ServiceError): void {
    this.recordRejected(error);
    this.stats.dropped++;
  }

  /** Counts an error of a message already counted. */
  recordFailure(error: ServiceError): void {
    this.stats.numErrors++;
    this.stats.lastError = `${error.status} ${error.message}`;
  }

  /** The clock reading that starts a message's processing time, or `UNTIMED`. */
  private startTiming(): number {
    if (this.burst++ === 0) queueMicrotask(this.endBurst);
    else if (!this.alwaysTimed && (this.burst - 1) % TIMING_STRIDE !== 0) return UNTIMED;
    return (this.clock = performance.now());
  }

  where(): string {
    return `${this.env.serviceName}#${this.definition.method} on '${this.definition.subject}'`;
  }
}
