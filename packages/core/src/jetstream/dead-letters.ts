import type { PublishAck } from './publish-ack';

/** A message a durable handler gave up on. */
export interface DeadLetter {
  /** Its sequence in the dead-letter stream: the handle for `get`, `replay` and `delete`. */
  readonly sequence: number;
  /** When it was dead-lettered. */
  readonly time: string;
  readonly reason: string;
  /** The error's status code (500 for an unexpected error, 422 for a validation error...). */
  readonly code: number;
  readonly attempts: number;
  /** Where it came from. */
  readonly origin: {
    readonly stream: string;
    readonly consumer: string;
    readonly sequence: number;
    readonly subject: string;
  };
  /** The original headers. */
  readonly headers: Record<string, string[]>;
  /** The original payload. */
  readonly data: Uint8Array;
}

export interface DeadLetterFilter {
  /** Only dead letters of this origin stream. */
  stream?: string;
  /** Only dead letters of this consumer. */
  consumer?: string;
  /** At most this many, oldest first. Default: 100. */
  limit?: number;
}

/** Lists, inspects, replays and deletes dead letters. Injectable; the app provides it. */
export abstract class DeadLetters {
  /** The dead-letter stream's name. */
  abstract get stream(): string;
  /**
   * The dead letters that match `filter`, oldest first. `NotFoundError` (404) when the dead-letter
   * stream does not exist (no durable handler ever provisioned it, or its name is wrong).
   */
  abstract list(filter?: DeadLetterFilter): Promise<DeadLetter[]>;
  /** The dead letter at `sequence`; `DeadLetterNotFoundError` (404) when there is none. */
  abstract get(sequence: number): Promise<DeadLetter>;
  /**
   * Publishes the original payload and headers to the original subject again (through JetStream,
   * so the origin stream stores it anew), then removes the dead letter.
   */
  abstract replay(sequence: number): Promise<PublishAck>;
  /** Removes the dead letter at `sequence`; `DeadLetterNotFoundError` (404) when there is none. */
  abstract delete(sequence: number): Promise<void>;
}
