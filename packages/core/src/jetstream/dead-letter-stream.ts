import { headers as createHeaders, type StoredMsg } from 'nats';
import { DeadLetterNotFoundError, NotFoundError } from '../common/errors';
import { headerRecord } from '../transport/header-codec';
import { isNotFound, type JetStreamContext } from './jetstream-context';
import type { PublishAck } from './publish-ack';
import { DeadLetterHeader, type DeadLetterSettings } from './dead-letter-settings';
import { storedHeaders } from './stored-headers';

import { DeadLetters, type DeadLetter, type DeadLetterFilter } from './dead-letters';

const REPLAY_TIMEOUT_MS = 5_000;
// Added when dead-lettering: not part of the original message.
const BRIGADE_HEADER = /^(brigade-dlq-|nats-msg-id$)/i;

/** The dead letters in a JetStream stream. */
export class DeadLetterStream extends DeadLetters {
  constructor(
    private readonly jetstream: () => Promise<JetStreamContext>,
    private readonly settings: DeadLetterSettings,
  ) {
    super();
  }

  override get stream(): string {
    return this.settings.stream.name;
  }

  override async list(filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
    const { jsm } = await this.jetstream();
    const limit = filter.limit ?? 100;
    const subject = [
      this.settings.subjectPrefix,
      filter.stream ?? '*',
      filter.consumer ?? '*',
    ].join('.');
    let info;
    try {
      info = await jsm.streams.info(this.stream);
    } catch (cause) {
      // A name mistyped must not read as "no dead letters".
      if (isNotFound(cause))
        throw new NotFoundError(`there is no dead-letter stream '${this.stream}'`, { cause });
      throw cause;
    }
    const letters: DeadLetter[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && letters.length < limit;) {
      let stored: StoredMsg;
      try {
        // The server's MSG.GET takes next_by_subj since 2.9; the client's typing lacks it.
        stored = await jsm.streams.getMessage(this.stream, { seq, next_by_subj: subject } as never);
      } catch (err) {
        if (isNotFound(err)) break;
        throw err;
      }
      letters.push(toDeadLetter(stored));
      seq = stored.seq + 1;
    }
    return letters;
  }

  override async get(sequence: number): Promise<DeadLetter> {
    return toDeadLetter(await this.load(sequence));
  }

  override async replay(sequence: number): Promise<PublishAck> {
    const context = await this.jetstream();
    const stored = await this.load(sequence);
    const letter = toDeadLetter(stored);
    const hdrs = createHeaders();
    for (const [name, values] of Object.entries(letter.headers))
      for (const v of values) hdrs.append(name, v);
    const ack = await context.js.publish(letter.origin.subject, letter.data, {
      headers: hdrs,
      msgID: `replay:${this.stream}:${sequence}`,
      timeout: REPLAY_TIMEOUT_MS,
    });
    await context.jsm.streams.deleteMessage(this.stream, sequence, false);
    return { stream: ack.stream, sequence: ack.seq, duplicate: ack.duplicate };
  }

  override async delete(sequence: number): Promise<void> {
    const { jsm } = await this.jetstream();
    await this.load(sequence);
    await jsm.streams.deleteMessage(this.stream, sequence, false);
  }

  private async load(sequence: number): Promise<StoredMsg> {
    const { jsm } = await this.jetstream();
    try {
      return await jsm.streams.getMessage(this.stream, { seq: sequence });
    } catch (cause) {
      if (isNotFound(cause)) throw new DeadLetterNotFoundError(sequence, { cause });
      throw cause;
    }
  }
}

function toDeadLetter(stored: StoredMsg): DeadLetter {
  const header = storedHeaders(stored);
  const all = headerRecord(header);
  const one = (name: string): string => header?.get(name) ?? '';
  const original: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(all))
    if (!BRIGADE_HEADER.test(name)) original[name] = values;
  return {
    sequence: stored.seq,
    time: one(DeadLetterHeader.Time) || stored.time.toISOString(),
    reason: one(DeadLetterHeader.Reason),
    code: Number(one(DeadLetterHeader.Code)) || 500,
    attempts: Number(one(DeadLetterHeader.Attempts)) || 0,
    origin: {
      stream: one(DeadLetterHeader.Stream),
      consumer: one(DeadLetterHeader.Consumer),
      sequence: Number(one(DeadLetterHeader.Sequence)) || 0,
      subject: one(DeadLetterHeader.Subject),
    },
    headers: original,
    data: stored.data,
  };
}
