import type { OutgoingMessage, OutgoingMiddleware } from '../common/middleware';
import { jsonCodec } from '../transport/json.codec';
import type { HeaderInit } from '../transport/wire-message';
import { failureOf, runChain } from '../pipeline/middleware-chain';

/**
 * The last step of a send: gets the subject, the payload and the headers as the outgoing steps
 * left them, the operation's options, and the message the steps saw (none without steps).
 */
export type Send<O, R> = (
  subject: string,
  payload: unknown,
  headers: HeaderInit | undefined,
  options: O,
  message?: OutgoingMessage,
) => R;

/**
 * The way out of one Bus operation, built once: through the outgoing steps (outermost first) to
 * `send`. With no steps, `send` itself: no message object is made and nothing is awaited.
 */
export function outgoingPath<O, R>(
  operation: OutgoingMessage['operation'],
  steps: readonly OutgoingMiddleware[],
  send: Send<O, R>,
): Send<O, R | Promise<unknown>> {
  if (steps.length === 0) return send;
  return (subject, payload, headers, options) => {
    const message: OutgoingMessage = { operation, subject, payload, headers: { ...headers } };
    return runChain(
      steps,
      message,
      (m) => send(subject, m.payload, m.headers, options, m),
      `the Bus (${operation} '${subject}')`,
    ).catch(rethrowUnwatched);
  };
}

/** The body of a payload; its size noted on the message the outgoing steps see. */
export function encodeBody(payload: unknown, message: OutgoingMessage | undefined): Uint8Array {
  const body = jsonCodec.encode(payload);
  if (message) message.bodySize = body.length;
  return body;
}

/**
 * A send that failed behind a middleware that did not look at it fails the call with the send's
 * own error, whatever the middleware returned instead: a lost publish is never reported as sent.
 */
function rethrowUnwatched(err: unknown): never {
  throw failureOf(err);
}
