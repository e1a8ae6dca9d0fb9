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

const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The `traceparent` for messages sent while handling a message that carried `incoming`: the same
 * trace, a fresh parent id standing for this handler's span, the same flags. `undefined` when the
 * incoming value is absent or malformed (W3C says: start over rather than propagate garbage).
 */
export function childTraceparent(incoming: string | undefined): string | undefined {
  const match =
    incoming === undefined ? null : TRACEPARENT_PATTERN.exec(incoming.trim().toLowerCase());
  if (!match || match[1] === 'ff' || /^0+$/.test(match[2] as string)) return undefined;
  return `00-${match[2]}-${randomBytes(8).toString('hex')}-${match[4]}`;
}

export function newCorrelationId(): string {
  return randomBytes(12).toString('hex');
}
