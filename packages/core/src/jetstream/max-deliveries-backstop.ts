import { DURABLE_DEFAULTS, type HandlerDefinition } from '../discovery/handler-definition';
import { parseDuration } from '../common/duration';
import { isNotFound, type JetStreamContext } from './jetstream-context';
import { MAX_DELIVERIES_ADVISORY, type DeadLetterSettings } from './dead-letter-settings';
import type { DeadLetterWriter } from './dead-letter-writer';
import { storedHeaders } from './stored-headers';

interface MaxDeliveriesAdvisory {
  stream?: string;
  consumer?: string;
  stream_seq?: number;
  deliveries?: number;
}

/**
 * The backstop for messages whose last delivery died with its process: no handler failed, so no
 * handler dead-lettered them; the server only announces them with a max-deliveries advisory (on
 * 2.9, lazily, at the consumer's next pull). Brigade keeps those advisories in a work-queue stream
 * and reads them with this handler, through a durable consumer of its own, so none is lost while
 * no instance runs. It fetches the message by sequence and dead-letters it.
 */
export class MaxDeliveriesBackstop {
  constructor(
    private readonly jetstream: JetStreamContext,
    private readonly writer: DeadLetterWriter,
  ) {}

  /** The handler method; throws to have the advisory redelivered. */
  async rescue(advisory: MaxDeliveriesAdvisory): Promise<void> {
    const { stream, consumer, stream_seq: sequence, deliveries } = advisory;
    if (!stream || !consumer || !sequence) return; // not an advisory we can act on
    let stored;
    try {
      stored = await this.jetstream.jsm.streams.getMessage(stream, { seq: sequence });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.writer.logger.error(
        { stream, consumer, sequence },
        `message ${sequence} of '${stream}' reached its max deliveries but is no longer in the stream (expired or deleted)`,
      );
      return;
    }
    await this.writer.write(
      {
        stream,
        consumer,
        sequence,
        subject: stored.subject,
        headers: storedHeaders(stored),
        data: stored.data,
      },
      {
        reason: `delivered ${deliveries ?? '?'} times without an acknowledgement: the handler's process died or its ack timed out on the last delivery`,
        code: 500,
        attempts: deliveries ?? 0,
      },
    );
  }
}

/** The backstop's own durable handler definition for one durable handler. */
export function backstopDefinition(
  handler: HandlerDefinition,
  settings: DeadLetterSettings,
): HandlerDefinition {
  const durable = handler.durable;
  if (!durable) throw new Error(`${handler.name} is not durable`);
  return Object.freeze({
    kind: 'event',
    name: `${handler.name}_backstop`,
    method: 'rescue',
    subject: `${MAX_DELIVERIES_ADVISORY}.${durable.stream}.${durable.consumer}`,
    queue: undefined,
    concurrency: 4,
    maxPending: 1,
    // A fetch and a publish, each bounded by its own timeout well under this.
    timeoutMs: 60_000,
    timeoutGraceMs: 5_000,
    payload: 'json',
    metadata: Object.freeze({}),
    middleware: Object.freeze([]),
    durable: Object.freeze({
      stream: settings.advisories.name,
      consumer: `${durable.consumer}_backstop`,
      maxDeliver: 10,
      backoffMs: Object.freeze(DURABLE_DEFAULTS.backoff.map((d) => parseDuration(d) as number)),
      ackWaitMs: 30_000,
      maxAckPending: 100,
      orderBy: undefined,
      breaker: undefined,
    }),
  });
}
