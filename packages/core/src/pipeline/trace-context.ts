import { randomFillSync } from 'node:crypto';

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

/** Random bytes drawn ahead for correlation ids: one system call per this many ids. */
const IDS_PER_DRAW = 256;
const ID_BYTES = 12;
const pool = Buffer.allocUnsafe(ID_BYTES * IDS_PER_DRAW);
let drawn = pool.length;

/**
 * A fresh correlation id: 24 hex digits (96 random bits), drawn from a pool filled 256 ids at a
 * time: a call into the system's random source per id is what it avoids.
 */
export function newCorrelationId(): string {
  if (drawn === pool.length) {
    randomFillSync(pool);
    drawn = 0;
  }
  const id = pool.toString('hex', drawn, drawn + ID_BYTES);
  drawn += ID_BYTES;
  return id;
}
