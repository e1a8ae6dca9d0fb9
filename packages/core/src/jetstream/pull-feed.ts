import { createInbox, type Msg, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from '../common/logger';
import { headerFault } from '../transport/header-codec';
import { PulledMessage } from './pulled-message';

/** How long one pull request waits on the server for messages, in ms. */
const PULL_EXPIRES_MS = 5_000;
/** A pull the server never closed this long after it expired (a restart lost it) is forgotten, in ms. */
const LOST_PULL_GRACE_MS = 2_000;
const SWEEP_INTERVAL_MS = 1_000;
const encoder = new TextEncoder();

interface Pull {
  remaining: number;
  readonly expiresAt: number;
}

/**
 * Pulls messages of one durable consumer into one inbox, asking only for as many as the handler
 * has free slots (`capacity()`), so unprocessed messages stay on the server, where any instance
 * can take them. Pulls overlap: a new one goes out once half the slots are free, while older
 * ones are still open, so the handler does not wait for a round trip per batch.
 */
export class PullFeed {
  private readonly inbox = createInbox();
  private readonly pulls: Pull[] = [];
  private readonly nextSubject: string;
  private subscription: Subscription | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    stream: string,
    consumer: string,
    private readonly windowSize: number,
    private readonly capacity: () => number,
    private readonly deliver: (msg: PulledMessage) => void,
    private readonly logger: Logger,
  ) {
    this.nextSubject = `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`;
  }

  start(): void {
    this.subscription = this.nc.subscribe(this.inbox, {
      callback: (_err, msg) => this.onMessage(msg),
    });
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
    this.refill();
  }

  /** Asks for no more; messages of pulls still open are given back at once (nak). */
  stop(): void {
    this.stopped = true;
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /** Ends the subscription; call once nothing is in flight. */
  close(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** Pulls more when enough handler slots are free. Call whenever a message settles. */
  refill(): void {
    if (this.stopped) return;
    const requested = this.pulls.reduce((n, p) => n + p.remaining, 0);
    const free = this.capacity() - requested;
    if (free <= 0 || (requested > 0 && free < Math.max(1, this.windowSize >> 1))) return;
    this.pulls.push({ remaining: free, expiresAt: Date.now() + PULL_EXPIRES_MS });
    const request = JSON.stringify({ batch: free, expires: PULL_EXPIRES_MS * 1_000_000 });
    try {
      this.nc.publish(this.nextSubject, encoder.encode(request), { reply: this.inbox });
    } catch (err) {
      this.pulls.pop();
      this.logger.warn({ err }, 'could not send a pull request; retrying');
    }
  }

  private onMessage(msg: Msg): void {
    // The server's status messages are well-formed: headers it cannot decode belong to a stored
    // message, which the binding dead-letters instead of the client throwing at every delivery.
    const fault = headerFault(msg);
    const status = fault === undefined ? (msg.headers?.code ?? 0) : 0;
    if (status === 0) {
      this.consumePull(1);
      const pulled = new PulledMessage(this.nc, msg, fault);
      if (this.stopped) pulled.nak();
      else this.deliver(pulled);
      return;
    }
    if (status === 100) return; // idle heartbeat
    // 404 no messages, 408 the pull expired, 409 the server dropped it: that pull is over.
    const unfulfilled = Number(msg.headers?.get('Nats-Pending-Messages') ?? NaN);
    this.closeOldestPull(unfulfilled);
    if (status === 409)
      this.logger.warn({ status: msg.headers?.description }, 'the server ended a pull request');
    this.refill();
  }

  private consumePull(count: number): void {
    const pull = this.pulls[0];
    if (!pull) return;
    pull.remaining -= count;
    if (pull.remaining <= 0) this.pulls.shift();
  }

  private closeOldestPull(unfulfilled: number): void {
    const index = this.pulls.findIndex(
      (p) => Number.isNaN(unfulfilled) || p.remaining === unfulfilled,
    );
    this.pulls.splice(index >= 0 ? index : 0, 1);
  }

  private sweep(): void {
    const now = Date.now();
    while (this.pulls[0] && this.pulls[0].expiresAt + LOST_PULL_GRACE_MS < now) this.pulls.shift();
    this.refill();
  }
}
