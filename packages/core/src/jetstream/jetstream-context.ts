import type { JetStreamClient, JetStreamManager, NatsConnection, NatsError } from 'nats';
import { JetStreamError, NoStreamError, RequestTimeoutError } from '../errors';
import { toMsgHdrs } from '../transport/header-codec';
import type { HeaderInit } from '../transport/wire-message';

/** What the server said about a durable publish. */
export interface PublishAck {
  /** The stream that stored the message. */
  readonly stream: string;
  /** Its sequence in that stream. */
  readonly sequence: number;
  /** True when the `Nats-Msg-Id` was seen within the duplicate window: stored once only. */
  readonly duplicate: boolean;
}

/** The JetStream client and manager of one connection. */
export class JetStreamContext {
  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
  ) {}

  /** Fails with an instruction when the server runs without JetStream. */
  static async open(nc: NatsConnection): Promise<JetStreamContext> {
    try {
      const jsm = await nc.jetstreamManager();
      return new JetStreamContext(nc, nc.jetstream(), jsm);
    } catch (cause) {
      const code = (cause as Partial<NatsError>).code;
      const reason =
        code === '503'
          ? 'JetStream is not enabled on the server: start nats-server with -js (and a store directory, -sd)'
          : `JetStream is unavailable: ${(cause as Error).message}`;
      throw new JetStreamError(reason, { cause });
    }
  }

  /** Publishes through JetStream and waits for the stream's acknowledgement. */
  async publish(
    subject: string,
    data: Uint8Array,
    headers: HeaderInit | undefined,
    msgId: string,
    timeoutMs: number,
  ): Promise<PublishAck> {
    try {
      const ack = await this.js.publish(subject, data, {
        msgID: msgId,
        headers: toMsgHdrs(headers),
        timeout: timeoutMs,
      });
      return { stream: ack.stream, sequence: ack.seq, duplicate: ack.duplicate };
    } catch (cause) {
      const code = (cause as Partial<NatsError>).code;
      if (code === '503') throw new NoStreamError(subject, { cause });
      if (code === 'TIMEOUT') throw new RequestTimeoutError(subject, timeoutMs, { cause });
      throw new JetStreamError(
        `durable publish to '${subject}' failed: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
}

/** True for the JetStream API's "not found" answers (stream, consumer or message). */
export function isNotFound(err: unknown): boolean {
  const api = (err as { api_error?: { code?: number } }).api_error;
  return api?.code === 404 || /not found/i.test((err as Error).message ?? '');
}
