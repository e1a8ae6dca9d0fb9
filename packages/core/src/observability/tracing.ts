import {
  context,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import type { HandlerDefinition } from '../discovery/handler-definition';
import type { ServiceError } from '../common/errors';
import type { OutgoingMessage } from '../common/middleware';
import { readHeader } from '../transport/header-codec';
import type { HandlerContext } from '../pipeline/handler-context';
import { currentHandlerContext } from '../pipeline/context-scope';
import type { DurableOutcome } from '../pipeline/step';
import { TRACEPARENT, TRACESTATE } from '../pipeline/trace-context';
import { formatTraceparent } from '../pipeline/traceparent';
import { BRIGADE_VERSION } from './version';

/**
 * Span attribute names: the OpenTelemetry messaging conventions', and Brigade's own for what they
 * leave to each system (`messaging.nats.*`).
 */
export const SpanAttribute = {
  System: 'messaging.system',
  DestinationName: 'messaging.destination.name',
  DestinationTemplate: 'messaging.destination.template',
  ConsumerGroup: 'messaging.consumer.group.name',
  OperationName: 'messaging.operation.name',
  OperationType: 'messaging.operation.type',
  BodySize: 'messaging.message.body.size',
  ConversationId: 'messaging.message.conversation_id',
  MessageId: 'messaging.message.id',
  ErrorType: 'error.type',
  /** The JetStream stream a durable handler reads, or a durable publish was stored in. */
  Stream: 'messaging.nats.stream.name',
  /** The durable consumer a durable handler reads through. */
  Consumer: 'messaging.nats.consumer.name',
  /** The message's sequence number in its stream. */
  Sequence: 'messaging.nats.message.sequence',
  /** Which delivery of the message this is (1 for the first). */
  DeliveryCount: 'messaging.nats.message.delivery_count',
  /** How a durable message was settled: `ack`, `nak` or `dead-letter`. */
  Outcome: 'messaging.nats.outcome',
  /** The redelivery delay a `nak` asked for, in milliseconds. */
  NakDelay: 'messaging.nats.nak.delay_ms',
  /** Why a message was dead-lettered. */
  DeadLetterReason: 'messaging.nats.dead_letter.reason',
} as const;

const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Brigade's tracer when an OpenTelemetry SDK registered a tracer provider, `undefined` when none
 * did: then nothing on the message path touches OpenTelemetry at all. Asked once, when an app or
 * client starts (register the SDK before, as for any instrumentation); `setting` forces it.
 */
export function tracerFor(setting: boolean | undefined): Tracer | undefined {
  if (setting === false) return undefined;
  const provider = trace.getTracerProvider();
  const registered = !(
    provider instanceof ProxyTracerProvider && provider.getDelegate() === NOOP_PROVIDER
  );
  return registered || setting === true
    ? trace.getTracer('@brigade/core', BRIGADE_VERSION)
    : undefined;
}

/**
 * The spans of one handler: a CONSUMER span (`process <subject>`) per event, a SERVER span per
 * request, named by the subscription subject. A request's span is a child of its caller's CLIENT
 * span. An event's span links to the span that published it, as the messaging conventions
 * advise for consumers, and is its child as well, so that a trace shows the whole flow (the
 * conventions allow it for spans that process a single message, which a Brigade handler does).
 */
export class HandlerTracing {
  private readonly name: string;
  private readonly kind: SpanKind;
  private readonly attributes: Attributes;
  private readonly durable: boolean;

  constructor(
    private readonly tracer: Tracer,
    definition: HandlerDefinition,
  ) {
    this.name = `process ${definition.subject}`;
    this.kind = definition.kind === 'endpoint' ? SpanKind.SERVER : SpanKind.CONSUMER;
    this.durable = definition.durable !== undefined;
    this.attributes = {
      [SpanAttribute.System]: 'nats',
      [SpanAttribute.OperationName]: 'process',
      [SpanAttribute.OperationType]: 'process',
      [SpanAttribute.DestinationTemplate]: definition.subject,
      ...(definition.queue !== undefined && { [SpanAttribute.ConsumerGroup]: definition.queue }),
      ...(definition.durable && {
        [SpanAttribute.Stream]: definition.durable.stream,
        [SpanAttribute.Consumer]: definition.durable.consumer,
        [SpanAttribute.ConsumerGroup]: definition.durable.consumer,
      }),
    };
  }

  /** Starts the span of `ctx`'s message (`ctx.span`). */
  start(ctx: HandlerContext): void {
    const creation = ctx.creationContext();
    const attributes: Attributes = {
      ...this.attributes,
      [SpanAttribute.DestinationName]: ctx.subject,
      [SpanAttribute.BodySize]: ctx.data.length,
      [SpanAttribute.ConversationId]: ctx.correlationId,
    };
    if (this.durable) {
      attributes[SpanAttribute.Sequence] = ctx.sequence;
      attributes[SpanAttribute.DeliveryCount] = ctx.deliveryCount;
      const msgId = readHeader(ctx.message, 'Nats-Msg-Id');
      if (msgId !== undefined) attributes[SpanAttribute.MessageId] = msgId;
    }
    const parent = creation ? trace.setSpanContext(ROOT_CONTEXT, creation) : ROOT_CONTEXT;
    const links = creation && this.kind === SpanKind.CONSUMER ? [{ context: creation }] : undefined;
    ctx.span = this.tracer.startSpan(this.name, { kind: this.kind, attributes, links }, parent);
  }

  /** Runs `fn` with the message's span active, so that the handler's own spans are its children. */
  run<T>(ctx: HandlerContext, fn: () => T): T {
    return context.with(trace.setSpan(ROOT_CONTEXT, ctx.span as Span), fn);
  }

  /** Records how the handler failed; `error` is what it threw, `failure` what the caller hears. */
  fail(ctx: HandlerContext, failure: ServiceError, error: unknown): void {
    const span = ctx.span as Span;
    span.setAttribute(SpanAttribute.ErrorType, errorTypeOf(failure));
    // A request answered 4xx was handled as it should be: the caller's fault, not this span's.
    if (this.kind === SpanKind.CONSUMER || failure.status >= 500) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      if (error instanceof Error && (failure !== error || failure.status >= 500))
        span.recordException(error);
    }
  }

  /** Ends a core handler's span once the handler is done (a durable one's once it is settled). */
  done(ctx: HandlerContext): void {
    if (!this.durable) ctx.span?.end();
  }

  /** Records how a durable message was settled and ends its span. */
  settled(ctx: HandlerContext, outcome: DurableOutcome): void {
    const span = ctx.span;
    if (!span) return;
    span.setAttribute(SpanAttribute.Outcome, outcome.kind);
    if (outcome.kind === 'nak') span.addEvent('nak', { [SpanAttribute.NakDelay]: outcome.delayMs });
    else if (outcome.kind === 'dead-letter')
      span.addEvent('dead-letter', { [SpanAttribute.DeadLetterReason]: outcome.reason });
    else span.addEvent('ack');
    span.end();
  }
}

/**
 * The span of something the Bus sends: PRODUCER for a publish, CLIENT for a request, a child of
 * the active span (the handler's, inside one; the application's own, say an HTTP request's). Its
 * context goes into the message's `traceparent`/`tracestate`, in place of the handler's incoming
 * ones: this span is the message's creation context.
 */
export function startSendSpan(tracer: Tracer, message: OutgoingMessage): Span {
  const operation = operationOf(message);
  const request = operation === 'request';
  let parent = context.active();
  if (trace.getSpan(parent) === undefined) {
    // No context manager (an SDK without one): the handler being run is the parent still.
    const handlerSpan = currentHandlerContext()?.span;
    if (handlerSpan) parent = trace.setSpan(parent, handlerSpan);
  }
  const correlationId = message.headers['correlation-id'];
  const span = tracer.startSpan(
    `${operation} ${message.subject}`,
    {
      kind: request ? SpanKind.CLIENT : SpanKind.PRODUCER,
      attributes: {
        [SpanAttribute.System]: 'nats',
        [SpanAttribute.OperationName]: operation,
        [SpanAttribute.OperationType]: 'send',
        [SpanAttribute.DestinationName]: message.subject,
        ...(typeof correlationId === 'string' && {
          [SpanAttribute.ConversationId]: correlationId,
        }),
      },
    },
    parent,
  );
  inject(span.spanContext(), message.headers);
  return span;
}

/** `messaging.operation.name` of a send: `request` (one reply or many) or `publish` (core or durable). */
export function operationOf(message: OutgoingMessage): 'request' | 'publish' {
  return message.operation === 'request' || message.operation === 'request-many'
    ? 'request'
    : 'publish';
}

/** Ends a send span with what the send came to. */
export function endSendSpan(span: Span, message: OutgoingMessage, error?: unknown): void {
  if (message.bodySize !== undefined) span.setAttribute(SpanAttribute.BodySize, message.bodySize);
  if (error !== undefined) {
    span.setAttribute(SpanAttribute.ErrorType, errorTypeOf(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }
  span.end();
}

function inject(span: SpanContext, headers: OutgoingMessage['headers']): void {
  if (!trace.isSpanContextValid(span)) return;
  headers[TRACEPARENT] = formatTraceparent(span);
  const state = span.traceState?.serialize();
  if (state) headers[TRACESTATE] = state;
  else delete headers[TRACESTATE];
}

/**
 * `error.type`, low in cardinality as the conventions ask: a Brigade error's code (a service
 * error's status, `404`), else the error's class name.
 */
export function errorTypeOf(error: unknown): string {
  const e = error as { status?: unknown; code?: unknown; name?: unknown } | null;
  if (typeof e?.status === 'number') return String(e.status);
  if (typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code)) return e.code;
  return typeof e?.name === 'string' && e.name !== '' ? e.name : '_OTHER';
}
