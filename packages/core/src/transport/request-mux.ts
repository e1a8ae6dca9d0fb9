import type { NatsConnection, Subscription } from 'nats';
import { createInbox } from 'nats';
import {
  CodecError,
  NoRespondersError,
  NotRunningError,
  RequestTimeoutError,
} from '../common/errors';
import { headerFault, isNoResponders } from './header-codec';
import type { WireMessage } from './wire-message';

interface PendingRequest {
  readonly token: string;
  readonly subject: string;
  readonly timeoutMs: number;
  readonly deadline: number;
  readonly resolve: (msg: WireMessage) => void;
  readonly reject: (err: Error) => void;
}

/** How often the shared timer looks for expired requests, in milliseconds. */
const SWEEP_INTERVAL_MS = 10;

/**
 * Request-reply over one wildcard inbox subscription. Replies are matched by the last token of
 * the reply subject; one shared timer expires requests, instead of a timer (and a captured stack)
 * per request. Requests with the same timeout expire in the order they were sent, so each bucket
 * of equal timeouts is swept from its head.
 */
export class RequestMux {
  readonly inboxPrefix: string;
  private readonly pending = new Map<string, PendingRequest>();
  private readonly byTimeout = new Map<number, Map<string, PendingRequest>>();
  private subscription: Subscription | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private counter = 0;

  constructor(
    private readonly nc: NatsConnection,
    customPrefix?: string,
  ) {
    this.inboxPrefix = createInbox(customPrefix);
  }

  request(
    subject: string,
    publish: (reply: string) => void,
    timeoutMs: number,
  ): Promise<WireMessage> {
    if (this.nc.isClosed() || this.nc.isDraining()) {
      return Promise.reject(
        new NotRunningError(`cannot request '${subject}': the connection is closing`),
      );
    }
    this.subscription ??= this.nc.subscribe(`${this.inboxPrefix}.*`, {
      callback: (_err, msg) => this.onReply(msg),
    });
    const token = (this.counter++).toString(36);
    return new Promise<WireMessage>((resolve, reject) => {
      const entry: PendingRequest = {
        token,
        subject,
        timeoutMs,
        deadline: performance.now() + timeoutMs,
        resolve,
        reject,
      };
      this.track(entry);
      try {
        publish(`${this.inboxPrefix}.${token}`);
      } catch (err) {
        this.untrack(entry);
        reject(err as Error);
      }
    });
  }

  /** Fails every pending request; used when the connection closes. */
  rejectAll(reason: Error): void {
    for (const entry of this.pending.values()) {
      this.untrack(entry);
      entry.reject(reason);
    }
  }

  private onReply(msg: WireMessage): void {
    const entry = this.pending.get(msg.subject.slice(this.inboxPrefix.length + 1));
    if (!entry) return; // the requester already timed out
    this.untrack(entry);
    const fault = headerFault(msg);
    if (fault !== undefined) {
      entry.reject(new CodecError(`the reply from '${entry.subject}' is unreadable: ${fault}`));
    } else if (isNoResponders(msg)) {
      entry.reject(new NoRespondersError(entry.subject));
    } else {
      entry.resolve(msg);
    }
  }

  private track(entry: PendingRequest): void {
    this.pending.set(entry.token, entry);
    let bucket = this.byTimeout.get(entry.timeoutMs);
    if (!bucket) this.byTimeout.set(entry.timeoutMs, (bucket = new Map()));
    bucket.set(entry.token, entry);
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  private untrack(entry: PendingRequest): void {
    this.pending.delete(entry.token);
    this.byTimeout.get(entry.timeoutMs)?.delete(entry.token);
    if (this.pending.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private sweep(): void {
    const now = performance.now();
    for (const [timeoutMs, bucket] of this.byTimeout) {
      for (const entry of bucket.values()) {
        if (entry.deadline > now) break;
        this.untrack(entry);
        entry.reject(new RequestTimeoutError(entry.subject, entry.timeoutMs));
      }
      if (bucket.size === 0) this.byTimeout.delete(timeoutMs);
    }
  }
}
