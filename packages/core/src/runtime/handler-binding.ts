import type { HandlerDefinition } from '../discovery/handler-definition';
import { BadRequestError, TimeoutError, UnavailableError, type ServiceError } from '../errors';
import { jsonCodec } from '../transport/json.codec';
import type { NatsTransport } from '../transport/nats-transport';
import type { TransportSubscription, WireMessage } from '../transport/wire-message';
import { encodeErrorReply, toServiceError } from './error-codec';
import { FifoQueue } from './fifo-queue';
import { emptyStats, type HandlerStats } from './handler-stats';
import { currentContext, HandlerContext, type ContextEnvironment } from './message-context';

type HandlerMethod = (payload: unknown, ctx: HandlerContext) => unknown;

/**
 * One handler bound to one core NATS subscription. Runs up to `concurrency` messages at once;
 * further messages wait in a queue of at most `maxPending`, past which endpoints answer 503 and
 * events are dropped with a warning (and counted), so memory stays bounded.
 */
export class HandlerBinding {
  readonly stats: HandlerStats = emptyStats();
  private readonly method: HandlerMethod;
  private readonly waiting = new FifoQueue<HandlerContext>();
  private inFlight = 0;
  private subscription: TransportSubscription | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly definition: HandlerDefinition,
    instance: object,
    private readonly transport: NatsTransport,
    private readonly env: ContextEnvironment,
  ) {
    const method = (instance as Record<string, HandlerMethod>)[definition.method] as HandlerMethod;
    this.method = method.bind(instance);
  }

  /** Subscribes; the subscription is live once the connection is flushed. */
  bind(): void {
    const { subject, queue } = this.definition;
    this.subscription = this.transport.subscribe(subject, queue, this.accept);
  }

  /** Takes no more messages; resolves once those already sent by the server are accepted. */
  async unbind(): Promise<void> {
    const sub = this.subscription;
    this.subscription = undefined;
    await sub?.drain();
  }

  get busy(): number {
    return this.inFlight + this.waiting.length;
  }

  /** Resolves when nothing is in flight or waiting. */
  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Answers every waiting request with 503 and drops waiting events; used when the grace period ends. */
  abandonWaiting(reason: string): number {
    let count = 0;
    for (let ctx = this.waiting.shift(); ctx; ctx = this.waiting.shift()) {
      count++;
      this.reject(ctx.message, new UnavailableError(reason));
    }
    this.settleIdle();
    return count;
  }

  private readonly accept = (msg: WireMessage): void => {
    if (this.inFlight < this.definition.concurrency) {
      this.run(new HandlerContext(msg, this.definition, this.env));
    } else if (this.waiting.length < this.definition.maxPending) {
      this.waiting.push(new HandlerContext(msg, this.definition, this.env));
    } else {
      this.stats.numRequests++;
      this.reject(
        msg,
        new UnavailableError(`'${this.env.serviceName}' is overloaded, try again later`),
      );
    }
  };

  private run(ctx: HandlerContext): void {
    this.inFlight++;
    const started = performance.now();
    const msg = ctx.message;
    let payload: unknown;
    try {
      payload = this.definition.payload === 'raw' ? msg.data : jsonCodec.decode(msg.data);
    } catch (err) {
      this.finish(msg, ctx, started, new BadRequestError((err as Error).message), undefined);
      return;
    }
    let result: unknown;
    try {
      result = currentContext.run(ctx, this.method, payload, ctx);
    } catch (err) {
      this.finish(msg, ctx, started, err ?? new Error('threw without a reason'), undefined);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => this.finish(msg, ctx, started, undefined, value),
        (err: unknown) =>
          this.finish(msg, ctx, started, err ?? new Error('rejected without a reason'), undefined),
      );
    } else {
      this.finish(msg, ctx, started, undefined, result);
    }
  }

  private finish(
    msg: WireMessage,
    ctx: HandlerContext,
    started: number,
    error: unknown,
    value: unknown,
  ): void {
    const stats = this.stats;
    stats.numRequests++;
    if (error !== undefined) {
      this.fail(msg, ctx, error);
    } else if (this.definition.kind === 'endpoint') {
      this.reply(msg, ctx, value);
    }
    stats.processingTimeNs += Math.round((performance.now() - started) * 1e6);
    this.inFlight--;
    this.next();
  }

  private reply(msg: WireMessage, ctx: HandlerContext, value: unknown): void {
    if (!msg.reply) return;
    try {
      this.transport.publish(msg.reply, jsonCodec.encode(value), undefined);
    } catch (err) {
      this.fail(msg, ctx, err); // not encodable, or too large for the server
    }
  }

  private fail(msg: WireMessage, ctx: HandlerContext, error: unknown): void {
    const serviceError = toServiceError(error);
    this.stats.numErrors++;
    this.stats.lastError = `${serviceError.status} ${serviceError.message}`;
    const log = { err: error, status: serviceError.status };
    if (serviceError !== error) ctx.logger.error(log, `${this.where()} failed`);
    else ctx.logger.warn(log, `${this.where()} answered ${serviceError.status}`);
    if (this.definition.kind === 'endpoint') this.sendError(msg, serviceError);
  }

  private reject(msg: WireMessage, error: ServiceError): void {
    this.stats.numErrors++;
    this.stats.lastError = `${error.status} ${error.message}`;
    if (this.definition.kind === 'endpoint') {
      this.sendError(msg, error);
    } else {
      this.stats.dropped++;
      this.env.logger.warn(
        { subject: msg.subject, handler: this.definition.name, reason: error.message },
        `${this.where()} dropped an event: ${this.definition.maxPending} already waiting; use a durable subscription for events that must not be lost`,
      );
    }
  }

  private sendError(msg: WireMessage, error: ServiceError): void {
    if (!msg.reply) return;
    const { headers, body } = encodeErrorReply(error);
    try {
      this.transport.publish(msg.reply, body, headers);
    } catch (err) {
      this.env.logger.error(
        { err, subject: msg.subject },
        `${this.where()} could not send its error reply`,
      );
    }
  }

  private next(): void {
    while (this.inFlight < this.definition.concurrency) {
      const ctx = this.waiting.shift();
      if (!ctx) break;
      if (this.definition.kind === 'endpoint' && (ctx.remainingMs() ?? 1) <= 0) {
        this.stats.numRequests++;
        this.reject(
          ctx.message,
          new TimeoutError('the request waited past its deadline and was not handled'),
        );
        continue;
      }
      this.run(ctx);
    }
    this.settleIdle();
  }

  private settleIdle(): void {
    if (this.busy !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private where(): string {
    return `${this.env.serviceName}#${this.definition.method} on '${this.definition.subject}'`;
  }
}
