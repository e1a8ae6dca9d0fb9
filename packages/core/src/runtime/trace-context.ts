import { randomBytes } from 'node:crypto';

/** Header names Brigade reads case-insensitively and writes in lower case. */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';
/** The correlation id Brigade carries from message to message. */
export const CORRELATION_ID = 'correlation-id';
/**
 * Milliseconds the requester will wait, set by the Brigade client on requests; the handler's
 * `ctx.signal` aborts when it passes. Other clients may set it too, or not.
 */
export const REQUEST_TIMEOUT = 'brigade-timeout-ms';

export function newCorrelationId(): string {
  return randomBytes(12).toString('hex');
}
