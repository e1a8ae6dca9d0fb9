import type { HandlerDefinition } from '../discovery/handler-definition';
import { DeadlineExceededError, type ServiceError } from '../common/errors';
import { jsonCodec } from '../transport/json.codec';
import { toServiceError } from './error-codec';
import { HandlerCounters } from './handler-stats';
import { HandlerContext, UNTIMED, type ContextEnvironment } from './handler-context';
import type { Logger } from '../common/logger';
import type { WireMessage } from '../transport/wire-message';
import { failureOf, type HandlerMethod, UnwatchedFailure } from './middleware-chain';
import { IncidentLog } from '../common/incident-log';
import { ThrownUndefined } from '../common/thrown';
import type { DurableOutcome, Next, Step, StepFactory, StepHandler } from './step';

/** In a burst, one message in this many is timed. */
const TIMING_STRIDE = 8;

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
 * pull): the handler's pipeline of steps (built once, from the app's list of `StepFactory`s),
 * then the method, inside the message's context; encodes an endpoint's reply, and reports the
 * outcome once, sync or async, to the binding and to the steps that watch outcomes. Knows no step
 * by name: decoding, schemas, tracing, metrics and the stats ledger are steps like the user's
 * middleware. Bindings only move bytes and settle (reply, ack, nak, dead-letter).
 *
 * Processing time: two clock reads are a noticeable part of handling a small event, so in a burst
 * (messages started in the same turn of the event loop) only the first and then every
 * `TIMING_STRIDE`-th message is timed, and their mean stands for the rest. At low rates every
 * message starts its own burst, so every message is timed. Durable messages always are (their
 * heartbeat reads the start time), and so is every message when a step asks for it (metrics).
 */
export class HandlerInvoker implements StepHandler {
  readonly stats = new HandlerCounters();
  /** The handler's per-message log lines (failures, drops, dead letters), kept bounded. */
  readonly incidents: IncidentLog;
  /** The steps, outermost first, around the method. */
  private readonly run: Next;
  /** An endpoint: its result is encoded as the reply. */
  private readonly replies: boolean;
  private readonly alwaysTimed: boolean;
  /** The steps' `finished` and `settled`, in their order. */
  private readonly finished: Step['finished'] & {};
  private readonly settledHooks: Step['settled'] & {};
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
    /** The handler's steps, outermost first; each is built for this handler. */
    steps: readonly StepFactory[],
  ) {
    this.incidents = new IncidentLog(env.logger, this.where());
    const built = steps.flatMap((factory) => factory(this) ?? []);
    const method = (instance as Record<string, HandlerMethod>)[definition.method] as HandlerMethod;
    let run: Next = method.bind(instance);
    for (const step of [...built].reverse()) if (step.wrap) run = step.wrap(run);
    this.run = run;
    this.finished = inOrder(built.flatMap((step) => step.finished ?? []));
    this.settledHooks = inOrder(built.flatMap((step) => step.settled ?? []));
    this.replies = definition.kind === 'endpoint';
    this.alwaysTimed =
      definition.durable !== undefined || built.some((step) => step.timesEvery === true);
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
    let result: unknown;
    try {
      result = this.run(ctx.data, ctx);
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

  /**
   * A message's outcome, told to the steps that watch outcomes; returns the caller-facing error
   * when it failed.
   */
  record(ctx: HandlerContext, error: unknown): ServiceError | undefined {
    const failure =
      error === undefined ? undefined : toServiceError(failureOf(error), ctx.abortReason());
    this.finished(ctx, failure, error);
    return failure;
  }

  /** How a durable message was settled, told to the steps. */
  settled(ctx: HandlerContext, outcome: DurableOutcome): void {
    this.settledHooks(ctx, outcome);
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
    this.stats.failed(error);
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

/** One hook calling `hooks` in order: a chain of pairs, each call site seeing one function. */
function inOrder<F extends (a: never, b: never, c: never) => void>(hooks: readonly F[]): F {
  if (hooks.length === 0) return nothing as F;
  return hooks.reduce(
    (first, then) =>
      ((a: never, b: never, c: never) => {
        first(a, b, c);
        then(a, b, c);
      }) as F,
  );
}

function nothing(_a: never, _b: never, _c: never): void {}
