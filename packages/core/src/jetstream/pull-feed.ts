import { createInbox, type Msg, type Subscription } from 'nats';
import type { Logger } from '../common/logger';
import { headerFault } from '../transport/header-codec';
import type { JetStreamContext } from './jetstream-context';
import { PulledMessage } from './pulled-message';

/** How long one pull request waits on the server for messages, in ms. */
const PULL_EXPIRES_MS = 5_000;
/** An open pull that has nothing to deliver gets a heartbeat from the server this often, in ms. */
const PULL_HEARTBEAT_MS = 1_000;
/** Open pulls are taken for lost (a server restart, a dropped route) after this many silent beats. */
const MISSED_HEARTBEATS = 2;
const encoder = new TextEncoder();
const nanos = 1_000_000;

interface Pull {
  remaining: number;
}

/**
 * Pulls messages of one durable consumer into one inbox, asking only for as many as the handler
 * has free slots (`capacity()`), so unprocessed messages stay on the server, where any instance
 * can take them. Pulls overlap: a new one goes out once half the slots are free, while older
 * ones are still open, so the handler does not wait for a round trip per batch.
 *
 * Every pull asks for an idle heartbeat: while pulls are open and the connection is up, the
 * server says something on the inbox at least once a beat (a message, a heartbeat, the end of a
 * pull). Two beats of silence mean the server no longer holds them (it restarted, or the route to
 * the consumer's leader dropped): they are forgotten and pulled again at once.
 */
export class PullFeed {
  private readonly inbox = createInbox();
  private readonly pulls: Pull[] = [];
  private readonly nextSubject: string;
  private subscription: Subscription | undefined;
  private beater: NodeJS.Timeout | undefined;
  /** Whether the server said anything on the inbox (or a pull went out) since the last beat. */
  private heard = false;
  private silentBeats = 0;
  private stopped = false;
  /** Pulls nothing meanwhile: a breaker holds it. */
  private held = false;

  constructor(
    private readonly jetstream: JetStreamContext,
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
    this.subscription = this.jetstream.nc.subscribe(this.inbox, {
      callback: (_err, msg) => this.onMessage(msg),
    });
    this.beater = setInterval(() => this.beat(), PULL_HEARTBEAT_MS).unref();
    this.refill();
  }

  /** Asks for no more; messages of pulls still open are given back at once (nak). */
  stop(): void {
    this.stopped = true;
    if (this.beater) clearInterval(this.beater);
  }

  /** Ends the subscription; call once nothing is in flight. */
  close(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** Pulls no more until `resume()`; what is in flight runs on. */
  hold(): void {
    this.held = true;
  }

  resume(): void {
    this.held = false;
    this.refill();
  }

  /** Pulls more when enough handler slots are free. Call whenever a message settles. */
  refill(): void {
    if (this.stopped || this.held) return;
    const requested = this.pulls.reduce((n, p) => n + p.remaining, 0);
    const free = this.capacity() - requested;
    if (free <= 0 || (requested > 0 && free < Math.max(1, this.windowSize >> 1))) return;
    this.pulls.push({ remaining: free });
    this.heard = true;
    const request = JSON.stringify({
      batch: free,
      expires: PULL_EXPIRES_MS * nanos,
      idle_heartbeat: PULL_HEARTBEAT_MS * nanos,
    });
    try {
      this.jetstream.nc.publish(this.nextSubject, encoder.encode(request), { reply: this.inbox });
    } catch (err) {
      this.pulls.pop();
      this.logger.warn({ err }, 'could not send a pull request; retrying');
    }
  }

  private onMessage(msg: Msg): void {
    this.heard = true;
    // The server's status messages are well-formed: headers it cannot decode belong to a stored
    // message, which the binding dead-letters instead of the client throwing at every delivery.
    const fault = headerFault(msg);
    const status = fault === undefined ? (msg.headers?.code ?? 0) : 0;
    if (status === 0) {
      this.consumePull(1);
      const pulled = new PulledMessage(this.jetstream.nc, msg, fault);
      // Stopped, or held by a breaker: back to the stream at once, for whoever pulls it next.
      if (this.stopped || this.held) pulled.nak();
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

  /** Once a beat: open pulls that have been silent for two beats while connected are lost. */
  private beat(): void {
    if (this.heard || this.pulls.length === 0 || !this.jetstream.connected) {
      this.heard = false;
      this.silentBeats = 0;
    } else if (++this.silentBeats >= MISSED_HEARTBEATS) {
      this.logger.warn(
        { pulls: this.pulls.length, silentMs: this.silentBeats * PULL_HEARTBEAT_MS },
        'no heartbeat from the server for open pull requests: they were lost; pulling again',
      );
      this.pulls.length = 0;
      this.silentBeats = 0;
    }
    this.refill();
  }
}
