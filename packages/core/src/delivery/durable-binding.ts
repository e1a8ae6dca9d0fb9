import type { DurableDefinition } from '../discovery/handler-definition';
import {
  BadRequestError,
  brigadeCodeOf,
  ErrorCode,
  isServiceError,
  ServiceStatus,
} from '../common/errors';
import { IdleSignal, type Binding } from './binding';
import { readHeader } from '../transport/header-codec';
import type { HandlerInvoker } from '../pipeline/handler-invoker';
import { type HandlerContext, Phase } from '../pipeline/handler-context';
import { DeadlineWatch } from './deadline-watch';
import { failureOf } from '../pipeline/middleware-chain';
import { describeThrown } from '../common/thrown';
import type { DeadLetterWriter } from '../jetstream/dead-letter-writer';
import type { JetStreamContext } from '../jetstream/jetstream-context';
import { KeyedLanes } from './keyed-lanes';
import { PullFeed } from '../jetstream/pull-feed';
import { ConsumerBreaker } from './consumer-breaker';
import type { PulledMessage } from '../jetstream/pulled-message';
import type { DurableOutcome } from '../pipeline/step';

/**
 * One durable handler reading its stream through a durable pull consumer shared by every
 * instance of the service. It pulls only as many messages as it has free handler slots (real
 * backpressure), acks on success, naks with the backoff delay on failure, keeps long handlers
 * alive with `working()`, and dead-letters a message after its last allowed delivery or at once
 * on a permanent failure. With `orderBy`, messages of one key run one after another.
 */
export class DurableBinding implements Binding {
  private readonly durable: DurableDefinition;
  private readonly idleSignal = new IdleSignal();
  /** Messages whose handler runs, before their deadline (kept alive with `working()`). */
  private readonly active = new Set<HandlerContext>();
  /** Messages given back to the server at their deadline, their handler still holding its slot. */
  private readonly overdue = new Set<HandlerContext>();
  private readonly watch = new DeadlineWatch((now) => this.sweep(now));
  /** With `orderBy`: messages waiting behind a running one of their key (counted in flight). */
  private readonly lanes = new KeyedLanes<{ msg: PulledMessage; arrivedAt: number }>();
  private readonly feed: PullFeed;
  private readonly breaker: ConsumerBreaker | undefined;
  private inFlight = 0;
  private stopping = false;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    readonly invoker: HandlerInvoker,
    jetstream: JetStreamContext,
    private readonly deadLetters: DeadLetterWriter,
  ) {
    this.durable = invoker.definition.durable as DurableDefinition;
    const { concurrency } = invoker.definition;
    this.feed = new PullFeed(
      jetstream,
      this.durable.stream,
      this.durable.consumer,
      concurrency,
      () => concurrency - this.inFlight,
      (msg) => this.run(msg),
      invoker.logger,
    );
    const { breaker } = this.durable;
    this.breaker =
      breaker &&
      new ConsumerBreaker(
        breaker,
        jetstream,
        this.durable,
        this.feed,
        invoker.stats,
        invoker.logger,
        invoker.where(),
      );
  }

  async bind(): Promise<void> {
    // A message is first kept alive at most two beats after it started (it may start just after
    // one): a quarter of ackWait keeps that at half of it, leaving the other half as slack for a
    // busy event loop. (A floor of 500 ms made a 1 s ackWait's first beat come as late as 1 s.)
    const every = Math.max(100, Math.floor(this.durable.ackWaitMs / 4));
    this.heartbeat = setInterval(() => this.keepAlive(every), every).unref();
    this.feed.start();
  }

  async unbind(): Promise<void> {
    this.stopping = true;
    this.feed.stop();
    this.closeWhenDone();
  }

  get busy(): number {
    return this.inFlight;
  }

  load(): { running: number; waiting: number } {
    const running = this.active.size + this.overdue.size;
    return { running, waiting: this.inFlight - running };
  }

  idle(): Promise<void> {
    return this.idleSignal.wait(this.busy);
  }

  flushLog(): void {
    this.invoker.incidents.close();
    this.deadLetters.close();
  }

  /** Pulled messages never wait: nothing to abandon. Unacked ones are redelivered by the server. */
  abandonWaiting(): number {
    return 0;
  }

  private run(msg: PulledMessage): void {
    this.inFlight++;
    if (msg.headerFault !== undefined) {
      // Retrying cannot mend the bytes: dead-letter it now, without the unreadable headers.
      const ctx = this.invoker.contextFor(msg);
      ctx.slot = 0;
      this.invoker.recordRejected(new BadRequestError(msg.headerFault));
      this.deadLetter(ctx, msg, msg.headerFault, ServiceStatus.BadRequest);
      return;
    }
    if (this.lanes.enter(this.keyOf(msg), { msg, arrivedAt: performance.now() })) this.start(msg);
  }

  private start(msg: PulledMessage): void {
    const ctx = this.invoker.contextFor(msg);
    ctx.deliveryCount = msg.deliveryCount;
    ctx.sequence = msg.sequence;
    ctx.slot = 0;
    this.active.add(ctx);
    this.invoker.invoke(ctx, this.finish);
    if (this.active.has(ctx)) this.watch.expect(ctx.deadline as number);
  }

  /** The key of `orderBy`, if the handler has one and the message carries it. */
  private keyOf(msg: PulledMessage): string | undefined {
    const orderBy = this.durable.orderBy;
    if (orderBy === undefined) return undefined;
    return orderBy.kind === 'header'
      ? readHeader(msg, orderBy.name)
      : msg.subject.split('.')[orderBy.index];
  }

  private readonly finish = (ctx: HandlerContext, error: unknown): void => {
    if (ctx.phase === Phase.Running) {
      this.active.delete(ctx);
      this.conclude(ctx, error);
    } else if (ctx.phase === Phase.Overdue) {
      // Given back to the server at its deadline; the late outcome is discarded.
      this.overdue.delete(ctx);
      this.release(ctx);
    } else {
      this.invoker.settledLate();
    }
  };

  /** Counts the outcome and settles the message: ack, nak with backoff, or dead letter. */
  private conclude(ctx: HandlerContext, error: unknown): void {
    const msg = ctx.message as PulledMessage;
    const failure = this.invoker.record(ctx, error);
    const attempts = msg.deliveryCount;
    const thrown = failureOf(error);
    if (failure) this.breaker?.failed(thrown);
    if (!failure) {
      this.settle(ctx, { kind: 'ack' }, () => msg.ack());
    } else if (!isPermanentFailure(thrown) && attempts < this.durable.maxDeliver) {
      const delayMs = this.backoffAfter(attempts);
      this.settle(ctx, { kind: 'nak', delayMs }, () => msg.nak(delayMs));
    } else {
      this.deadLetter(ctx, msg, describeThrown(thrown), failure.status);
    }
  }

  /**
   * The deadline watch's round: gives messages past their deadline back to the server (a failed
   * attempt), releases the slots of handlers past their grace; returns the next due time.
   */
  private sweep(now: number): number {
    const grace = this.invoker.definition.timeoutGraceMs;
    let due = Infinity;
    for (const ctx of this.active) {
      const deadline = ctx.deadline as number;
      if (deadline > now) {
        due = Math.min(due, deadline);
        continue;
      }
      const error = this.invoker.deadlineError(ctx, false);
      this.active.delete(ctx);
      this.overdue.add(ctx);
      ctx.expire(error);
      this.conclude(ctx, error);
    }
    for (const ctx of this.overdue) {
      const end = (ctx.deadline as number) + grace;
      if (end > now) {
        due = Math.min(due, end);
        continue;
      }
      this.overdue.delete(ctx);
      ctx.phase = Phase.Abandoned;
      this.invoker.recordAbandoned(ctx, now);
      this.release(ctx);
    }
    return due;
  }

  /** Copies the message to the dead-letter stream, then terms it (or naks it if that failed). */
  private deadLetter(ctx: HandlerContext, msg: PulledMessage, reason: string, code: number): void {
    const { stream, consumer } = this.durable;
    const attempts = msg.deliveryCount;
    this.deadLetters
      .write(
        {
          stream,
          consumer,
          sequence: msg.sequence,
          subject: msg.subject,
          headers: msg.headerFault === undefined ? msg.headers : undefined,
          data: msg.data,
        },
        { reason, code, attempts },
      )
      .then(
        () => this.settle(ctx, { kind: 'dead-letter', reason }, () => msg.term()),
        (err: unknown) => {
          const why = describeThrown(err);
          this.invoker.incidents.add(
            'could not dead-letter',
            'error',
            { ...ctx.logFields(), err, sequence: msg.sequence },
            `${this.invoker.where()} could not dead-letter message ${msg.sequence} (${why}); it will be redelivered`,
            why,
          );
          const delayMs = this.backoffAfter(attempts);
          this.settle(ctx, { kind: 'nak', delayMs }, () => msg.nak(delayMs));
        },
      );
  }

  /**
   * Acks, naks or terms (which fail only on a closed connection: then the server redelivers),
   * then frees the message's slot unless its handler still runs past its deadline.
   */
  private settle(ctx: HandlerContext, outcome: DurableOutcome, act: () => void): void {
    try {
      act();
    } catch (err) {
      this.invoker.incidents.add(
        'could not acknowledge',
        'warn',
        { ...ctx.logFields(), err },
        `${this.invoker.where()} could not acknowledge a message; the server will redeliver it`,
        describeThrown(err),
      );
    }
    this.invoker.settled(ctx, outcome);
    if (ctx.phase === Phase.Running) this.release(ctx);
  }

  /** Frees a message's slot (once): its key's next message starts, the feed pulls again. */
  private release(ctx: HandlerContext): void {
    if (ctx.slot === -1) return;
    ctx.slot = -1;
    this.inFlight--;
    const next = this.lanes.leave(this.keyOf(ctx.message as PulledMessage));
    if (next) this.start(next.msg);
    this.feed.refill();
    this.idleSignal.settle(this.busy);
    this.closeWhenDone();
  }

  private closeWhenDone(): void {
    if (!this.stopping || this.inFlight > 0) return;
    this.feed.close();
    this.breaker?.stop();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.watch.stop();
  }

  private backoffAfter(attempts: number): number {
    const delays = this.durable.backoffMs;
    return delays[Math.min(attempts, delays.length) - 1] as number;
  }

  /** Tells the server that handlers running longer than a beat (a quarter of `ackWait`) are still at work. */
  private keepAlive(olderThanMs: number): void {
    const now = performance.now();
    const due: PulledMessage[] = [];
    for (const ctx of this.active)
      if (now - ctx.startedAt >= olderThanMs) due.push(ctx.message as PulledMessage);
    // Messages waiting their turn behind their key are in flight too, as far as the server knows.
    for (const { msg, arrivedAt } of this.lanes.waiting())
      if (now - arrivedAt >= olderThanMs) due.push(msg);
    try {
      for (const msg of due) msg.working();
    } catch {
      // Disconnected: the server redelivers after ackWait, which is what it is for.
    }
  }
}

/**
 * True for failures retrying cannot fix, which are dead-lettered at once: `PermanentError`, and
 * the caller's faults, `BadRequestError` (malformed JSON too) and `ValidationError`.
 */
export function isPermanentFailure(error: unknown): boolean {
  return (
    brigadeCodeOf(error) === ErrorCode.Permanent ||
    (isServiceError(error) &&
      (error.status === ServiceStatus.BadRequest || error.status === ServiceStatus.Validation))
  );
}
