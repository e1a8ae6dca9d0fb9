import {
  BadRequestError,
  InternalError,
  DeadlineExceededError,
  UnavailableError,
  type ServiceError,
} from '../common/errors';
import type { NatsTransport } from '../transport/nats-transport';
import { headerFault } from '../transport/header-codec';
import { clip } from '../common/clip';
import type { TransportSubscription, WireMessage } from '../transport/wire-message';
import { encodeErrorReply } from '../pipeline/error-codec';
import { FifoQueue } from './fifo-queue';
import type { HandlerInvoker } from '../pipeline/handler-invoker';
import { IdleSignal, type Binding } from './binding';
import { type HandlerContext, Phase, requestDeadline } from '../pipeline/handler-context';
import { DeadlineWatch } from './deadline-watch';
import { describeThrown } from '../common/thrown';

/**
 * How long after a caller's own deadline its request is given up on here. The caller's timer
 * fires at that deadline (a Brigade caller's does), so it speaks first and the caller always
 * sees its own timeout, not sometimes that and sometimes a 408 that raced it; a caller that
 * waits longer than the deadline it sent hears the 408.
 */
const CALLER_FIRST_MS = 25;

/**
 * One handler bound to one core NATS subscription. Runs up to `concurrency` messages at once;
 * further messages wait in a queue of at most `maxPending`, past which endpoints answer 503 and
 * events are dropped with a warning (and counted), so memory stays bounded.
 *
 * Every message has a deadline (a request's own, else the handler's timeout): at it a request is
 * answered 408, waiting or running, and the handler's signal aborts; a handler still running its
 * grace later is given up on and its slot goes to the next message, so that handlers which never
 * settle cannot make the endpoint deaf. One timer watches all of it (`DeadlineWatch`).
 */
export class CoreBinding implements Binding {
  private readonly waiting = new FifoQueue<HandlerContext>();
  private readonly idleSignal = new IdleSignal();
  /** The messages holding a slot, in no order; each knows its index (`slot`). */
  private readonly running: HandlerContext[] = [];
  private readonly watch = new DeadlineWatch((now) => this.sweep(now));
  private subscription: TransportSubscription | undefined;

  constructor(
    readonly invoker: HandlerInvoker,
    private readonly transport: NatsTransport,
  ) {}

  async bind(): Promise<void> {
    const { subject, queue } = this.invoker.definition;
    this.subscription = this.transport.subscribe(subject, queue, this.accept);
  }

  async unbind(): Promise<void> {
    const sub = this.subscription;
    this.subscription = undefined;
    await sub?.drain();
  }

  flushLog(): void {
    this.invoker.incidents.close();
  }

  get busy(): number {
    return this.running.length + this.waiting.length;
  }

  load(): { running: number; waiting: number } {
    return { running: this.running.length, waiting: this.waiting.length };
  }

  idle(): Promise<void> {
    return this.idleSignal.wait(this.busy);
  }

  abandonWaiting(reason: string): number {
    let count = 0;
    for (let ctx = this.waiting.shift(); ctx; ctx = this.waiting.shift()) {
      count++;
      this.turnAway(ctx.message, new UnavailableError(reason));
    }
    this.idleSignal.settle(this.busy);
    return count;
  }

  private readonly accept = (msg: WireMessage): void => {
    const fault = headerFault(msg);
    if (fault !== undefined) {
      this.turnAway(msg, new BadRequestError(fault));
      return;
    }
    const { definition } = this.invoker;
    let deadline: number | undefined;
    // A request's deadline runs from its arrival: its own, else the handler's timeout.
    if (definition.kind === 'endpoint') {
      const own = requestDeadline(msg);
      if (typeof own === 'string') {
        this.turnAway(msg, new BadRequestError(own));
        return;
      }
      deadline =
        own === undefined ? performance.now() + definition.timeoutMs : own + CALLER_FIRST_MS;
    }
    if (this.running.length < definition.concurrency) {
      this.start(this.invoker.contextFor(msg, deadline));
    } else if (this.waiting.length < definition.maxPending) {
      this.waiting.push(this.invoker.contextFor(msg, deadline));
      if (deadline !== undefined) this.watch.expect(deadline);
    } else {
      this.turnAway(
        msg,
        new UnavailableError(
          definition.kind === 'endpoint'
            ? `'${this.invoker.serviceName}' is overloaded, try again later`
            : `${definition.maxPending} events already waiting; use a durable subscription for events that must not be lost`,
        ),
      );
    }
  };

  private start(ctx: HandlerContext): void {
    ctx.slot = this.running.length;
    this.running.push(ctx);
    this.invoker.invoke(ctx, this.finish);
    // Still running once the synchronous part returned: watch its deadline.
    if (ctx.slot !== -1) this.watch.expect(ctx.deadline as number);
  }

  private readonly finish = (
    ctx: HandlerContext,
    error: unknown,
    reply: Uint8Array | undefined,
  ): void => {
    if (ctx.phase === Phase.Running) {
      this.answer(ctx, error, reply);
      this.vacate(ctx);
    } else if (ctx.phase === Phase.Overdue) {
      this.vacate(ctx); // answered for at its deadline; the late result is discarded
    } else {
      this.invoker.settledLate();
      return;
    }
    this.next();
  };

  /** Counts a message's outcome and, for a request, replies. */
  private answer(ctx: HandlerContext, error: unknown, reply: Uint8Array | undefined): void {
    const failure = this.invoker.record(ctx, error);
    if (this.invoker.definition.kind !== 'endpoint' || !ctx.replyExpected) return;
    // A reply with a failure: a middleware answered while the handler behind it failed unwatched.
    if (reply !== undefined) this.sendReply(ctx.message, reply);
    else if (failure) this.sendError(ctx.message, failure);
  }

  /** Gives up `ctx`'s slot (the last running message moves into it). */
  private vacate(ctx: HandlerContext): void {
    const running = this.running;
    const last = running.pop() as HandlerContext;
    if (last !== ctx) {
      running[ctx.slot] = last;
      last.slot = ctx.slot;
    }
    ctx.slot = -1;
  }

  /**
   * The deadline watch's round: answers running and waiting requests past their deadline, gives
   * up on handlers past their grace; returns when the next of them falls due.
   */
  private sweep(now: number): number {
    const grace = this.invoker.definition.timeoutGraceMs;
    let due = Infinity;
    let freed = false;
    const running = this.running;
    // From the end: vacating moves the last message into the slot just visited.
    for (let i = running.length - 1; i >= 0; i--) {
      const ctx = running[i] as HandlerContext;
      const deadline = ctx.deadline as number;
      if (ctx.phase === Phase.Running) {
        if (deadline > now) {
          due = Math.min(due, deadline);
          continue;
        }
        const error = this.invoker.deadlineError(ctx, !this.usesTimeout(ctx));
        ctx.expire(error);
        this.answer(ctx, error, undefined);
      }
      if (deadline + grace > now) {
        due = Math.min(due, deadline + grace);
      } else {
        ctx.phase = Phase.Abandoned;
        this.vacate(ctx);
        this.invoker.recordAbandoned(ctx, now);
        freed = true;
      }
    }
    if (this.waiting.length > 0 && this.invoker.definition.kind === 'endpoint') {
      this.waiting.removeWhere((ctx) => {
        const deadline = ctx.deadline as number;
        if (deadline > now) {
          due = Math.min(due, deadline);
          return false;
        }
        this.turnAwayLate(ctx);
        return true;
      });
    }
    if (freed) this.next();
    else this.idleSignal.settle(this.busy);
    return due;
  }

  /** True when a request's deadline is the handler's timeout, not one it brought. */
  private usesTimeout(ctx: HandlerContext): boolean {
    return (
      this.invoker.definition.kind !== 'endpoint' || requestDeadline(ctx.message) === undefined
    );
  }

  private turnAwayLate(ctx: HandlerContext): void {
    this.turnAway(
      ctx.message,
      new DeadlineExceededError('the request waited past its deadline and was not handled'),
    );
  }

  private sendReply(msg: WireMessage, body: Uint8Array): void {
    try {
      this.transport.publish(msg.reply as string, body, undefined);
    } catch (err) {
      // Too large for the server, say: the caller still gets an answer instead of a timeout.
      this.couldNotSend(msg, err, 'its reply');
      const failure = new InternalError('the reply could not be sent');
      this.invoker.recordFailure(failure);
      this.sendError(msg, failure);
    }
  }

  /** Answers an endpoint's message with `error`, or drops an event (counted, logged in sum). */
  private turnAway(msg: WireMessage, error: ServiceError): void {
    if (this.invoker.definition.kind === 'endpoint') {
      this.invoker.recordRejected(error);
      this.sendError(msg, error);
    } else {
      this.invoker.recordDropped(error);
      const reason = `${error.status} ${error.message}`;
      this.invoker.incidents.add(
        `dropped: ${reason}`,
        'warn',
        { subject: clip(msg.subject), reason },
        `${this.invoker.where()} dropped an event: ${reason}`,
        reason,
      );
    }
  }

  private sendError(msg: WireMessage, error: ServiceError): void {
    if (!msg.reply) return;
    const { headers, body } = encodeErrorReply(error);
    try {
      this.transport.publish(msg.reply, body, headers);
    } catch (err) {
      this.couldNotSend(msg, err, 'its error reply');
    }
  }

  private couldNotSend(msg: WireMessage, err: unknown, what: string): void {
    const why = describeThrown(err);
    this.invoker.incidents.add(
      `could not send ${what}`,
      'error',
      { err, subject: clip(msg.subject) },
      `${this.invoker.where()} could not send ${what}: ${why}`,
      why,
    );
  }

  private next(): void {
    const { definition } = this.invoker;
    while (this.running.length < definition.concurrency) {
      const ctx = this.waiting.shift();
      if (!ctx) break;
      if (definition.kind === 'endpoint' && (ctx.remainingMs() ?? 1) <= 0) {
        this.turnAwayLate(ctx);
        continue;
      }
      this.start(ctx);
    }
    this.idleSignal.settle(this.busy);
  }
}
