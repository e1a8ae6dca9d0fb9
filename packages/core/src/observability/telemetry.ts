import type { Tracer } from '@opentelemetry/api';
import type { OutgoingMiddleware } from '../common/middleware';
import type { PublishAck } from '../jetstream/publish-ack';
import type { AppMetrics } from './metrics';
import { endSendSpan, SpanAttribute, startSendSpan } from './tracing';

/** What an app or client observes itself with; either part may be off. */
export interface Telemetry {
  /** Brigade's tracer, when an OpenTelemetry SDK was registered at start. */
  readonly tracer?: Tracer | undefined;
  /** The app's Prometheus metrics, when on. */
  readonly metrics?: AppMetrics | undefined;
}

/**
 * The Bus's own outermost outgoing step when tracing or metrics are on: a PRODUCER or CLIENT span
 * per send, whose context the message carries, and the send's duration and count. `undefined`
 * when both are off, so that the Bus keeps its path without outgoing steps.
 */
export function sendTelemetry({ tracer, metrics }: Telemetry): OutgoingMiddleware | undefined {
  if (!tracer && !metrics) return undefined;
  return (message, next) => {
    const span = tracer && startSendSpan(tracer, message);
    const startedAt = metrics ? performance.now() : 0;
    return next().then(
      (outcome) => {
        if (span) {
          if (message.operation === 'durable-publish') {
            const ack = outcome as PublishAck;
            span.setAttribute(SpanAttribute.Stream, ack.stream);
            span.setAttribute(SpanAttribute.Sequence, ack.sequence);
          }
          endSendSpan(span, message);
        }
        metrics?.recordSend(message, startedAt);
        return outcome;
      },
      (err: unknown) => {
        if (span) endSendSpan(span, message, err);
        metrics?.recordSend(message, startedAt, err);
        throw err;
      },
    );
  };
}
