import { headers as createHeaders, type MsgHdrs } from 'nats';
import type { Logger } from '../common/logger';
import { IncidentLog } from '../common/incident-log';
import type { JetStreamContext } from './jetstream-context';
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
  /** One line per dead letter would be one per message: kept bounded, per consumer. */
  private readonly incidents: IncidentLog;

  constructor(
    private readonly jetstream: JetStreamContext,
    private readonly settings: DeadLetterSettings,
    readonly logger: Logger,
  ) {
    this.incidents = new IncidentLog(logger, 'dead letters');
  }

  /** Logs the dead letters not yet reported; called when the app stops. */
  close(): void {
    this.incidents.close();
  }

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
    this.incidents.add(
      `${origin.stream}/${origin.consumer}`,
      'warn',
      {
        stream: origin.stream,
        consumer: origin.consumer,
        sequence: origin.sequence,
        attempts: failure.attempts,
        reason: failure.reason,
      },
      `dead-lettered message ${origin.sequence} of '${origin.stream}' to '${subject}'`,
      `message ${origin.sequence} of '${origin.stream}': ${failure.reason}`,
    );
  }
}
