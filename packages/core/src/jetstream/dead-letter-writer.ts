import { headers as createHeaders, type MsgHdrs, type Subscription } from 'nats';
import type { Logger } from '../runtime/logger';
import { isNotFound, type JetStreamContext } from './jetstream-context';
import {
  DeadLetterHeader,
  deadLetterSubject,
  type DeadLetterSettings,
} from './dead-letter-settings';

/** The message being given up on, and where it came from. */
export interface DeadLetterOrigin {
  readonly stream: string;
  readonly consumer: string;
  readonly sequence: number;
  readonly subject: string;
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
}

export interface DeadLetterFailure {
  readonly reason: string;
  readonly code: number;
  readonly attempts: number;
}

const PUBLISH_TIMEOUT_MS = 5_000;
const MAX_REASON_LENGTH = 1_000;
// Headers that belong to the original publish and must not steer the dead letter's.
const DROPPED = /^(nats-msg-id|nats-expected-|brigade-dlq-)/i;

/**
 * Copies failed messages to the dead-letter stream: the original payload and headers plus
 * `Brigade-Dlq-*` headers. The copy's `Nats-Msg-Id` is derived from the origin, so a message
 * dead-lettered twice (a handler and the backstop racing) is stored once.
 */
export class DeadLetterWriter {
  constructor(
    private readonly jetstream: JetStreamContext,
    private readonly settings: DeadLetterSettings,
    private readonly logger: Logger,
  ) {}

  async write(origin: DeadLetterOrigin, failure: DeadLetterFailure): Promise<void> {
    const hdrs = createHeaders();
    if (origin.headers) {
      for (const [name, values] of origin.headers) {
        if (!DROPPED.test(name)) for (const v of values) hdrs.append(name, v);
      }
    }
    hdrs.set(
      DeadLetterHeader.Reason,
      failure.reason.replace(/[\r\n]+/g, ' ').slice(0, MAX_REASON_LENGTH),
    );
    hdrs.set(DeadLetterHeader.Code, String(failure.code));
    hdrs.set(DeadLetterHeader.Attempts, String(failure.attempts));
    hdrs.set(DeadLetterHeader.Stream, origin.stream);
    hdrs.set(DeadLetterHeader.Consumer, origin.consumer);
    hdrs.set(DeadLetterHeader.Sequence, String(origin.sequence));
    hdrs.set(DeadLetterHeader.Subject, origin.subject);
    hdrs.set(DeadLetterHeader.Time, new Date().toISOString());
    const subject = deadLetterSubject(this.settings, origin.stream, origin.consumer);
    await this.jetstream.js.publish(subject, origin.data, {
      headers: hdrs,
      msgID: `dlq:${origin.stream}:${origin.sequence}`,
      timeout: PUBLISH_TIMEOUT_MS,
    });
    this.logger.warn(
      {
        stream: origin.stream,
        consumer: origin.consumer,
        sequence: origin.sequence,
        attempts: failure.attempts,
        reason: failure.reason,
      },
      `dead-lettered message ${origin.sequence} of '${origin.stream}' to '${subject}'`,
    );
  }

  /**
   * The backstop for messages whose last delivery died with its process: the server announces
   * them with a max-deliveries advisory (on 2.9, lazily, at the consumer's next pull), and this
   * fetches the message by sequence and dead-letters it. One instance per service takes each.
   */
  watchMaxDeliveries(stream: string, consumer: string): Subscription {
    const subject = `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${consumer}`;
    return this.jetstream.nc.subscribe(subject, {
      queue: `${consumer}-backstop`,
      callback: (_err, msg) => {
        let advisory: { stream_seq?: number; deliveries?: number };
        try {
          advisory = msg.json();
        } catch (err) {
          this.logger.error({ err, subject }, 'unreadable max-deliveries advisory');
          return;
        }
        void this.rescue(stream, consumer, advisory.stream_seq ?? 0, advisory.deliveries ?? 0);
      },
    });
  }

  private async rescue(
    stream: string,
    consumer: string,
    sequence: number,
    attempts: number,
  ): Promise<void> {
    try {
      const stored = await this.jetstream.jsm.streams.getMessage(stream, { seq: sequence });
      await this.write(
        {
          stream,
          consumer,
          sequence,
          subject: stored.subject,
          headers: stored.header,
          data: stored.data,
        },
        {
          reason: `delivered ${attempts} times without an acknowledgement: the handler's process died or its ack timed out on the last delivery`,
          code: 500,
          attempts,
        },
      );
    } catch (err) {
      const gone = isNotFound(err);
      this.logger.error(
        { err, stream, consumer, sequence },
        gone
          ? `message ${sequence} of '${stream}' reached its max deliveries but is no longer in the stream (expired or deleted)`
          : `could not dead-letter message ${sequence} of '${stream}' after its max deliveries`,
      );
    }
  }
}
