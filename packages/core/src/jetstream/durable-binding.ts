import type { Consumer, ConsumerMessages, JsMsg } from 'nats';
import type { DurableDefinition } from '../discovery/handler-definition';
import { isPermanentFailure } from '../errors';
import { IdleSignal, type Binding } from '../runtime/handler-binding';
import type { HandlerInvoker } from '../runtime/handler-invoker';
import { HandlerContext } from '../runtime/message-context';
import type { DeadLetterWriter } from './dead-letter-writer';
import type { JetStreamContext } from './jetstream-context';

/** How long one pull waits for messages before it is renewed, in ms. */
const PULL_EXPIRES_MS = 5_000;
const MAX_RETRY_DELAY_MS = 5_000;

/**
 * One durable handler reading its stream through a durable pull consumer shared by every
 * instance of the service. It pulls only as many messages as it has free handler slots (real
 * backpressure), acks on success, naks with the backoff delay on failure, keeps long handlers
 * alive with `working()`, and dead-letters a message after its last allowed delivery or at once
 * on a permanent failure.
 */
export class DurableBinding implements Binding {
  private readonly durable: DurableDefinition;
  private readonly idleSignal = new IdleSignal();
  private readonly active = new Set<HandlerContext>();
  private inFlight = 0;
  private stopping = false;
  private pulling: Promise<void> | undefined;
  private batch: ConsumerMessages | undefined;
  private wakeUp: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    readonly invoker: HandlerInvoker,
    private readonly jetstream: JetStreamContext,
    private readonly deadLetters: DeadLetterWriter,
  ) {
    this.durable = invoker.definition.durable as DurableDefinition;
  }

  async bind(): Promise<void> {
    const consumer = await this.jetstream.js.consumers.get(
      this.durable.stream,
      this.durable.consumer,
    );
    const every = Math.max(500, Math.floor(this.durable.ackWaitMs / 3));
    this.heartbeat = setInterval(() => this.keepAlive(every), every).unref();
    this.pulling = this.pull(consumer);
  }

  async unbind(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    await this.batch?.close();
    await this.pulling;
    this.stopHeartbeatWhenDone();
  }

  get busy(): number {
    return this.inFlight;
  }

  idle(): Promise<void> {
    return this.idleSignal.wait(this.busy);
  }

  /** Pulled messages never wait: nothing to abandon. Unacked ones are redelivered by the server. */
  abandonWaiting(): number {
    return 0;
  }

  private async pull(consumer: Consumer): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      const free = this.invoker.definition.concurrency - this.inFlight;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        this.wakeUp = undefined;
        continue;
      }
      try {
        this.batch = await consumer.fetch({ max_messages: free, expires: PULL_EXPIRES_MS });
        if (this.stopping) {
          await this.batch.close();
          break;
        }
        for await (const msg of this.batch) this.run(msg);
        failures = 0;
      } catch (err) {
        if (this.stopping) break;
        failures++;
        this.invoker.env.logger.warn(
          { err, stream: this.durable.stream, consumer: this.durable.consumer },
          `pulling from '${this.durable.stream}' failed; retrying`,
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** failures));
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeUp = undefined;
      } finally {
        this.batch = undefined;
      }
    }
  }

  private run(msg: JsMsg): void {
    this.inFlight++;
    const ctx = new HandlerContext(msg, this.invoker.definition, this.invoker.env);
    ctx.deliveryCount = msg.info.deliveryCount;
    ctx.sequence = msg.seq;
    this.active.add(ctx);
    this.invoker.invoke(ctx, this.finish);
  }

  private readonly finish = (ctx: HandlerContext, error: unknown): void => {
    const msg = ctx.message as JsMsg;
    const failure = this.invoker.record(ctx, error);
    const attempts = msg.info.deliveryCount;
    if (!failure) {
      this.settle(ctx, () => msg.ack());
    } else if (!isPermanentFailure(error) && attempts < this.durable.maxDeliver) {
      this.settle(ctx, () => msg.nak(this.backoffAfter(attempts)));
    } else {
      const reason = error instanceof Error ? error.message : String(error);
      this.deadLetters
        .write(
          {
            stream: this.durable.stream,
            consumer: this.durable.consumer,
            sequence: msg.seq,
            subject: msg.subject,
            headers: msg.headers,
            data: msg.data,
          },
          { reason, code: failure.status, attempts },
        )
        // Bare term: nats-server 2.9 ignores a term with a reason.
        .then(
          () => this.settle(ctx, () => msg.term()),
          (err: unknown) => {
            ctx.logger.error(
              { err },
              `could not dead-letter message ${msg.seq}; it will be redelivered`,
            );
            this.settle(ctx, () => msg.nak(this.backoffAfter(attempts)));
          },
        );
    }
  };

  /** Acks, naks or terms (which fail only on a closed connection: then the server redelivers). */
  private settle(ctx: HandlerContext, outcome: () => void): void {
    try {
      outcome();
    } catch (err) {
      ctx.logger.warn({ err }, 'could not acknowledge; the server will redeliver the message');
    }
    this.active.delete(ctx);
    this.inFlight--;
    this.wakeUp?.();
    this.idleSignal.settle(this.busy);
    this.stopHeartbeatWhenDone();
  }

  private stopHeartbeatWhenDone(): void {
    if (this.stopping && this.inFlight === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  private backoffAfter(attempts: number): number {
    const delays = this.durable.backoffMs;
    return delays[Math.min(attempts, delays.length) - 1] as number;
  }

  /** Tells the server that handlers running longer than a third of `ackWait` are still at work. */
  private keepAlive(olderThanMs: number): void {
    const now = performance.now();
    for (const ctx of this.active) {
      if (now - ctx.startedAt < olderThanMs) continue;
      try {
        (ctx.message as JsMsg).working();
      } catch {
        // Disconnected: the server redelivers after ackWait, which is what it is for.
      }
    }
  }
}
