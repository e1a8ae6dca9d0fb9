import type { Logger } from '../common/logger';
import type { BreakerDefinition } from '../discovery/handler-definition';
import type { JetStreamContext } from '../jetstream/jetstream-context';
import type { PullFeed } from '../jetstream/pull-feed';
import { Features } from '../jetstream/server-features';

/** Where a breaker counts what it did: the handler's counters, for `STATS` and metrics. */
interface BreakerCounts {
  breakerOpened: number;
  breakerClosed: number;
}

/**
 * A durable handler's circuit breaker. It counts the handler's transient failures (a downstream
 * outage, as `counts` tells them) in a sliding window; when there are `failures` within
 * `withinMs`, it opens: this instance stops pulling, and on nats-server 2.11 or later the consumer
 * is paused on the server until `pauseMs` from now, so that no instance gets its messages. They
 * wait in the stream instead of spending deliveries. After the pause it closes: the server
 * resumes the consumer by itself, and this instance pulls again. Counted per instance.
 */
export class ConsumerBreaker {
  /** When each counted failure of the window happened, oldest first (ms). */
  private readonly recent: number[] = [];
  private openUntil = 0;
  private closer: NodeJS.Timeout | undefined;
  private saidLocalOnly = false;

  constructor(
    private readonly settings: BreakerDefinition,
    private readonly jetstream: JetStreamContext,
    private readonly consumer: { readonly stream: string; readonly consumer: string },
    private readonly feed: PullFeed,
    private readonly counts: BreakerCounts,
    private readonly logger: Logger,
    /** The handler, for log lines: `Kitchen.cook on 'orders.paid'`. */
    private readonly where: string,
  ) {}

  /** A failure of the handler: counted when it is transient; may open the breaker. */
  failed(error: unknown): void {
    if (!this.settings.counts(error)) return;
    const now = Date.now();
    if (now < this.openUntil) return;
    this.recent.push(now);
    while ((this.recent[0] as number) <= now - this.settings.withinMs) this.recent.shift();
    if (this.recent.length >= this.settings.failures) this.open(now, error);
  }

  /** Stops the timer that would close it (the handler is being unbound). */
  stop(): void {
    if (this.closer) clearTimeout(this.closer);
    this.closer = undefined;
  }

  private open(now: number, error: unknown): void {
    const { failures, withinMs, pauseMs } = this.settings;
    const until = new Date(now + pauseMs);
    this.recent.length = 0;
    this.openUntil = until.getTime();
    this.counts.breakerOpened++;
    this.feed.hold();
    this.closer = setTimeout(() => this.close(), pauseMs);
    this.closer.unref?.();
    const { stream, consumer } = this.consumer;
    const fields = { stream, consumer, until: until.toISOString(), err: error };
    const why = `${failures} transient failures within ${withinMs} ms`;
    const { capabilities } = this.jetstream;
    if (!capabilities.supports(Features.consumerPause)) {
      if (!this.saidLocalOnly)
        this.logger.warn(
          fields,
          `${this.where}: breaker open after ${why}; ${capabilities.lack(Features.consumerPause, 'pausing the consumer on the server')}: this instance stops pulling for ${pauseMs} ms, other instances go on (said once)`,
        );
      this.saidLocalOnly = true;
      return;
    }
    this.logger.warn(
      fields,
      `${this.where}: breaker open after ${why}: consumer '${consumer}' paused on the server until ${until.toISOString()}; messages wait in the stream`,
    );
    this.jetstream
      .pauseConsumer(stream, consumer, until)
      .catch((err: unknown) =>
        this.logger.error(
          { stream, consumer, err },
          `${this.where}: could not pause consumer '${consumer}' on the server; this instance stops pulling until ${until.toISOString()}`,
        ),
      );
  }

  private close(): void {
    this.closer = undefined;
    this.counts.breakerClosed++;
    this.feed.resume();
    this.logger.info(
      { stream: this.consumer.stream, consumer: this.consumer.consumer },
      `${this.where}: breaker closed: consumer '${this.consumer.consumer}' resumes`,
    );
  }
}
