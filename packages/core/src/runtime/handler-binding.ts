import {
  BadRequestError,
  InternalError,
  DeadlineExceededError,
  UnavailableError,
  type ServiceError,
} from '../common/errors';
import type { NatsTransport } from '../transport/nats-transport';
import { headerFault } from '../transport/header-codec';
import type { TransportSubscription, WireMessage } from '../transport/wire-message';
import { DropReport } from './drop-report';
import { encodeErrorReply } from './error-codec';
import { FifoQueue } from './fifo-queue';
import type { HandlerInvoker } from './handler-invoker';
import { type HandlerContext, requestDeadline } from './handler-context';

/** What the app needs of every kind of binding: start, stop taking messages, wait, give up. */
export interface Binding {
  readonly invoker: HandlerInvoker;
  /** Starts taking messages; live on the server once the connection is flushed. */
  bind(): Promise<void>;
  /** Takes no more messages; resolves once those the server already sent are accepted. */
  unbind(): Promise<void>;
  /** Messages in flight or waiting. */
  readonly busy: number;
  /** Messages running, and waiting for a slot (or behind their key). */
  load(): { running: number; waiting: number };
  /** Resolves when nothing is in flight or waiting. */
  idle(): Promise<void>;
  /** Gives up on waiting messages when the grace period ends; returns how many. */
  abandonWaiting(reason: string): number;
}

/** Resolves `idle()` waiters once a binding has nothing in flight or waiting. */
export class IdleSignal {
  private waiters: (() => void)[] = [];

  wait(busy: number): Promise<void> {
    if (busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  settle(busy: number): void {
    if (busy !== 0 || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * One handler bound to one core NATS subscription. Runs up to `concurrency` messages at once;
 * further messages wait in a queue of at most `maxPending`, past which endpoints answer 503 and
 * events are dropped with a warning (and counted), so memory stays bounded.
 */
export class CoreBinding implements Binding {
  private readonly waiting = new FifoQueue<HandlerContext>();
  private readonly idleSignal = new IdleSignal();
  private readonly drops: DropReport;
  private inFlight = 0;
  private subscription: TransportSubscription | undefined;

  constructor(
    readonly invoker: HandlerInvoker,
    private readonly transport: NatsTransport,
  ) {
    this.drops = new DropReport(invoker.logger, invoker.where());
  }

  async bind(): Promise<void> {
    const { subject, queue } = this.invoker.definition;
    this.subscription = this.transport.subscribe(subject, queue, this.accept);
  }

  async unbind(): Promise<void> {
    const sub = this.subscription;
    this.subscription = undefined;
    await sub?.drain();
    this.drops.close();
  }

  get busy(): number {
    return this.inFlight + this.waiting.length;
  }

  load(): { running: number; waiting: number } {
    return { running: this.inFlight, waiting: this.waiting.length };
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
    // Only requests have deadlines: an event's sender waits for nothing.
    const deadline = definition.kind === 'endpoint' ? requestDeadline(msg) : undefined;
    if (typeof deadline === 'string') {
      this.turnAway(msg, new BadRequestError(deadline));
    } else if (this.inFlight < definition.concurrency) {
      this.inFlight++;
      this.invoker.invoke(this.invoker.contextFor(msg, deadline), this.finish);
    } else if (this.waiting.length < definition.maxPending) {
      this.waiting.push(this.invoker.contextFor(msg, deadline));
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

  private readonly finish = (
    ctx: HandlerContext,
    error: unknown,
    reply: Uint8Array | undefined,
  ): void => {
    const failure = this.invoker.record(ctx, error);
    if (this.invoker.definition.kind === 'endpoint' && ctx.replyExpected) {
      if (failure) this.sendError(ctx.message, failure);
      else this.sendReply(ctx.message, reply as Uint8Array);
    }
    this.inFlight--;
    this.next();
  };

  private sendReply(msg: WireMessage, body: Uint8Array): void {
    try {
      this.transport.publish(msg.reply as string, body, undefined);
    } catch (err) {
      // Too large for the server, say: the caller still gets an answer instead of a timeout.
      this.invoker.logger.error(
        { err, subject: msg.subject },
        `${this.invoker.where()} could not send its reply`,
      );
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
      this.drops.add(msg.subject, `${error.status} ${error.message}`);
    }
  }

  private sendError(msg: WireMessage, error: ServiceError): void {
    if (!msg.reply) return;
    const { headers, body } = encodeErrorReply(error);
    try {
      this.transport.publish(msg.reply, body, headers);
    } catch (err) {
      this.invoker.logger.error(
        { err, subject: msg.subject },
        `${this.invoker.where()} could not send its error reply`,
      );
    }
  }

  private next(): void {
    const { definition } = this.invoker;
    while (this.inFlight < definition.concurrency) {
      const ctx = this.waiting.shift();
      if (!ctx) break;
      if (definition.kind === 'endpoint' && (ctx.remainingMs() ?? 1) <= 0) {
        this.turnAway(
          ctx.message,
          new DeadlineExceededError('the request waited past its deadline and was not handled'),
        );
        continue;
      }
      this.inFlight++;
      this.invoker.invoke(ctx, this.finish);
    }
    this.idleSignal.settle(this.busy);
  }
}
