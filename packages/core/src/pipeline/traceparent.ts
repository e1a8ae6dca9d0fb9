import { createTraceState, type SpanContext } from '@opentelemetry/api';

const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ALL_ZEROS = /^0+$/;

/**
 * The span context a W3C `traceparent` (and `tracestate`) names, marked remote; `undefined` when
 * the header is absent or malformed (W3C says: start over rather than propagate garbage). Brigade
 * reads and writes W3C trace context itself, whatever propagator an SDK registers: it is what the
 * wire contract promises every client in every language.
 */
export function parseTraceparent(
  traceparent: string | undefined,
  tracestate?: string,
): SpanContext | undefined {
  const match =
    traceparent === undefined ? null : TRACEPARENT_PATTERN.exec(traceparent.trim().toLowerCase());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (version === 'ff' || ALL_ZEROS.test(traceId) || ALL_ZEROS.test(spanId)) return undefined;
  return {
    traceId,
    spanId,
    traceFlags: parseInt(flags, 16),
    isRemote: true,
    traceState: tracestate === undefined ? undefined : createTraceState(tracestate),
  };
}

/** The `traceparent` (version 00) that names `span`. */
export function formatTraceparent(span: SpanContext): string {
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${span.traceId}-${span.spanId}-${flags}`;
}
