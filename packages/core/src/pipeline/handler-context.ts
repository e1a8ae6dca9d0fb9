import type { HandlerDefinition } from '../discovery/handler-definition';
import { headerRecord, headersOf, readHeader } from '../transport/header-codec';
import type { WireMessage } from '../transport/wire-message';
import { isServiceError, type ServiceError, UnavailableError } from '../common/errors';
import { clip } from '../common/clip';
import { MAX_TIMER_MS } from '../common/duration';
import type { Logger } from '../common/logger';
import type { MessageContext, MessageHeaders } from '../common/message-context';
import type { Span, SpanContext } from '@opentelemetry/api';
import {
  CORRELATION_ID,
  newCorrelationId,
  REQUEST_TIMEOUT,
  TRACEPARENT,
  TRACESTATE,
} from './trace-context';
import { formatTraceparent, parseTraceparent } from './traceparent';

/** What a handler context needs from the app, shared by all its messages. */
export interface ContextEnvironment {
  readonly serviceName: string;
  readonly logger: Logger;
  readonly shutdownSignal: AbortSignal;
}

/** `HandlerContext.startedAt` of a message left untimed. */
export const UNTIMED = -1;

/** Where a message stands against its deadline. */
export enum Phase {
  /** Before its deadline (or without one). */
  Running,
  /** Past its deadline: answered for (408, nak, counted), its handler still holding its slot. */
  Overdue,
  /** Past its deadline and grace: its slot went to the next message; its outcome is discarded. */
  Abandoned,
}

/** One per message; every field beyond the subject is computed on first use. */
export class HandlerContext implements MessageContext {
  /** When it started (`performance.now()` ms), or `UNTIMED`. */
  startedAt = 0;
  /**
   * When the handler is given up on (`performance.now()` ms): a request's from its arrival, an
   * event's from its start; `undefined` until then.
   */
  deadline: number | undefined;
  phase = Phase.Running;
  /** The binding's slot it runs in, -1 while it waits. */
  slot = -1;
  deliveryCount: number | undefined;
  sequence: number | undefined;
  /** The handler's span, while tracing (an OpenTelemetry SDK was registered when the app started). */
  span: Span | undefined;
  private cachedCorrelationId: string | undefined;
  private cachedLogger: Logger | undefined;
  private cachedSignal: AbortSignal | undefined;
  private deadlineAbort: AbortController | undefined;
  private expiry: ServiceError | undefined;
  private cachedHeaders: MessageHeaders | undefined;
  private cachedPropagation: Record<string, string> | undefined;

  constructor(
    /** The message as received. */
    readonly message: WireMessage,
    private readonly handler: HandlerDefinition,
    private readonly env: ContextEnvironment,
    /** When the requester gives up (`performance.now()` ms), for requests (see `requestDeadline`). */
    deadline?: number,
  ) {
    this.deadline = deadline;
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
      toRecord: () => headerRecord(headersOf(msg)),
    });
  }

  get correlationId(): string {
    return (this.cachedCorrelationId ??=
      readHeader(this.message, CORRELATION_ID) ?? newCorrelationId());
  }

  get logger(): Logger {
    return (this.cachedLogger ??= this.env.logger.child(this.logFields()));
  }

  /** What every log line about this message carries. */
  logFields(): Record<string, string> {
    return {
      correlationId: clip(this.correlationId),
      service: this.env.serviceName,
      handler: this.handler.name,
      subject: clip(this.message.subject),
    };
  }

  get signal(): AbortSignal {
    if (this.cachedSignal) return this.cachedSignal;
    if (this.deadline === undefined) return (this.cachedSignal = this.env.shutdownSignal);
    // Aborted by the binding's deadline watch (`expire`), not a timer of its own, so that the
    // reason is a 408 and nothing is left to clear when the handler is done.
    this.deadlineAbort = new AbortController();
    if (this.expiry) this.deadlineAbort.abort(this.expiry);
    return (this.cachedSignal = AbortSignal.any([
      this.env.shutdownSignal,
      this.deadlineAbort.signal,
    ]));
  }

  /** Milliseconds until the deadline, if it has one; negative once passed. */
  remainingMs(): number | undefined {
    return this.deadline === undefined ? undefined : this.deadline - performance.now();
  }

  /** The deadline passed: aborts the signal with `reason` and marks the message overdue. */
  expire(reason: ServiceError): void {
    this.phase = Phase.Overdue;
    this.expiry = reason;
    this.deadlineAbort?.abort(reason);
  }

  /**
   * The caller-facing form of a handler's failure: once the signal aborted, whatever the handler
   * threw (an `AbortError`, a `fetch` failure) stands for the abort, 408 at the caller's deadline
   * and 503 at shutdown.
   */
  abortReason(): ServiceError | undefined {
    const signal = this.cachedSignal;
    if (!signal?.aborted) return undefined;
    const reason: unknown = signal.reason;
    return isServiceError(reason) ? reason : new UnavailableError(String(reason));
  }

  /** The span that sent the message (its `traceparent`), if it names a valid one. */
  creationContext(): SpanContext | undefined {
    return parseTraceparent(
      readHeader(this.message, TRACEPARENT),
      readHeader(this.message, TRACESTATE),
    );
  }

  /**
   * Headers every message sent while handling this one carries: the correlation id, and the
   * incoming trace context as it came. Untraced, Brigade passes the trace on as an intermediary
   * that records nothing: the parent of what the handler sends is the span that reported, the
   * sender's. While tracing, the Bus replaces the trace headers with its own span's.
   */
  propagationHeaders(): Readonly<Record<string, string>> {
    if (this.cachedPropagation) return this.cachedPropagation;
    const headers: Record<string, string> = { [CORRELATION_ID]: this.correlationId };
    const creation = this.creationContext();
    if (creation !== undefined) {
      headers[TRACEPARENT] = formatTraceparent(creation);
      const tracestate = readHeader(this.message, TRACESTATE);
      if (tracestate !== undefined) headers[TRACESTATE] = tracestate;
    }
    return (this.cachedPropagation = headers);
  }
}

/** The longest deadline a request may set, in ms: Node's timers cannot wait longer. */
export const MAX_REQUEST_TIMEOUT_MS = MAX_TIMER_MS;

/**
 * The deadline a request's `brigade-timeout-ms` header sets (`performance.now()` ms), `undefined`
 * when it has none, or the reason the header is refused. Whole or fractional positive
 * milliseconds are taken; values above `MAX_REQUEST_TIMEOUT_MS` (about 24.8 days, the longest a
 * timer can wait) are clamped to it; anything else (text, zero, negative) is refused.
 */
export function requestDeadline(msg: WireMessage): number | string | undefined {
  const raw = readHeader(msg, REQUEST_TIMEOUT);
  if (raw === undefined) return undefined;
  const timeout = Number(raw);
  if (!(timeout > 0)) {
    return `${REQUEST_TIMEOUT} must be a positive number of milliseconds, got '${clip(raw)}'`;
  }
  return performance.now() + Math.min(timeout, MAX_REQUEST_TIMEOUT_MS);
}
