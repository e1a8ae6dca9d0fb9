import type { Logger } from './logger';

/** Read access to a message's headers; names are matched case-insensitively. */
export interface MessageHeaders {
  get(name: string): string | undefined;
  has(name: string): boolean;
  /** Every header, names as sent, each with all its values. */
  toRecord(): Record<string, string[]>;
}

/** What a handler knows about the message it is handling. */
export interface MessageContext {
  /** The subject the message arrived on (the concrete one, for wildcard subscriptions). */
  readonly subject: string;
  readonly headers: MessageHeaders;
  /** True when the sender waits for a reply (the message has a reply subject). */
  readonly replyExpected: boolean;
  /** The `correlation-id` header of the message, or a fresh id when it had none. */
  readonly correlationId: string;
  /** The app's logger bound to this message's correlation id, service and handler. */
  readonly logger: Logger;
  /**
   * Aborts when the requester's deadline passes (the `brigade-timeout-ms` header) or when
   * `stop()` runs out of its grace period. Pass it to anything cancellable.
   */
  readonly signal: AbortSignal;
  /** The raw body. */
  readonly data: Uint8Array;
  /** Durable handlers: how often this message was delivered, 1 the first time. Else undefined. */
  readonly deliveryCount: number | undefined;
  /** Durable handlers: the message's sequence in its stream. Else undefined. */
  readonly sequence: number | undefined;
}
