import { AsyncLocalStorage } from 'node:async_hooks';
import type { HandlerDefinition } from '../discovery/handler-definition';
import { headerRecord, readHeader } from '../transport/header-codec';
import type { WireMessage } from '../transport/wire-message';
import type { Logger } from './logger';
import {
  childTraceparent,
  CORRELATION_ID,
  newCorrelationId,
  REQUEST_TIMEOUT,
  TRACEPARENT,
  TRACESTATE,
} from './trace-context';

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

/** What a handler context needs from the app, shared by all its messages. */
export interface ContextEnvironment {
  readonly serviceName: string;
  readonly logger: Logger;
  readonly shutdownSignal: AbortSignal;
}

/** The context of the message being handled, found by the Bus when it publishes. */
export const currentContext = new AsyncLocalStorage<HandlerContext>();

/** One per message; every field beyond the subject is computed on first use. */
export class HandlerContext implements MessageContext {
  /** When it arrived (`performance.now()` ms); only requests have a deadline to count from. */
  private readonly receivedAt: number;
  /** When the handler started (`performance.now()` ms), or -1 when it goes untimed. */
  startedAt = 0;
  deliveryCount: number | undefined;
  sequence: number | undefined;
  private cachedCorrelationId: string | undefined;
  private cachedLogger: Logger | undefined;
  private cachedSignal: AbortSignal | undefined;
  private cachedHeaders: MessageHeaders | undefined;
  private cachedPropagation: Record<string, string> | undefined;

  constructor(
    /** The message as received. */
    readonly message: WireMessage,
    private readonly handler: HandlerDefinition,
    private readonly env: ContextEnvironment,
  ) {
    this.receivedAt = handler.kind === 'endpoint' ? performance.now() : 0;
  }

  get subject(): string {
    return this.message.subject;
  }

  get data(): Uint8Array {
    return this.message.data;
  }

  get replyExpected(): boolean {
    return this.message.reply !== undefined && this.message.reply !== '';
  }

  get headers(): MessageHeaders {
    const msg = this.message;
    return (this.cachedHeaders ??= {
      get: (name) => readHeader(msg, name),
      has: (name) => readHeader(msg, name) !== undefined,
      toRecord: () => headerRecord(msg.headers),
    });
  }

  get correlationId(): string {
    return (this.cachedCorrelationId ??=
      readHeader(this.message, CORRELATION_ID) ?? newCorrelationId());
  }

  get logger(): Logger {
    return (this.cachedLogger ??= this.env.logger.child({
      correlationId: this.correlationId,
      service: this.env.serviceName,
      handler: this.handler.name,
      subject: this.message.subject,
    }));
  }

  get signal(): AbortSignal {
    if (this.cachedSignal) return this.cachedSignal;
    const remaining = this.remainingMs();
    this.cachedSignal =
      remaining === undefined
        ? this.env.shutdownSignal
        : AbortSignal.any([
            this.env.shutdownSignal,
            AbortSignal.timeout(Math.max(0, Math.ceil(remaining))),
          ]);
    return this.cachedSignal;
  }

  /** Milliseconds until the requester gives up, if it said; negative once passed. */
  remainingMs(): number | undefined {
    const raw = readHeader(this.message, REQUEST_TIMEOUT);
    const timeout = raw === undefined ? NaN : Number(raw);
    if (!Number.isFinite(timeout) || timeout <= 0) return undefined;
    return timeout - (performance.now() - this.receivedAt);
  }

  /** Headers every message sent while handling this one carries: trace and correlation. */
  propagationHeaders(): Readonly<Record<string, string>> {
    if (this.cachedPropagation) return this.cachedPropagation;
    const headers: Record<string, string> = { [CORRELATION_ID]: this.correlationId };
    const traceparent = childTraceparent(readHeader(this.message, TRACEPARENT));
    if (traceparent !== undefined) {
      headers[TRACEPARENT] = traceparent;
      const tracestate = readHeader(this.message, TRACESTATE);
      if (tracestate !== undefined) headers[TRACESTATE] = tracestate;
    }
    return (this.cachedPropagation = headers);
  }
}
