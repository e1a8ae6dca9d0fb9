import {
  brigadeCodeOf,
  ErrorCode,
  InternalError,
  isServiceError,
  ServiceError,
  ServiceStatus,
  UnavailableError,
} from '../common/errors';
import { jsonCodec } from '../transport/json.codec';
import { readHeader } from '../transport/header-codec';
import type { WireMessage } from '../transport/wire-message';

/** The NATS Service API error headers. */
export const SERVICE_ERROR = 'Nats-Service-Error';
export const SERVICE_ERROR_CODE = 'Nats-Service-Error-Code';

/**
 * The safe, caller-facing form of whatever a handler threw: a `ServiceError` as it is; else the
 * abort that explains it (`aborted`: the handler's signal fired first); else an outage of what
 * the handler depends on as 503; anything else as a generic 500.
 */
export function toServiceError(err: unknown, aborted?: ServiceError): ServiceError {
  if (isServiceError(err)) return err;
  if (aborted) return aborted;
  const outage = outageOf(err);
  // The cause stays for the logs; the wire gets the message and status only.
  return outage
    ? new UnavailableError(outage, { cause: err })
    : new InternalError('internal error', { cause: err });
}

/** What is down, when `err` says a dependency (NATS, JetStream, another service) is unavailable. */
function outageOf(err: unknown): string | undefined {
  switch (brigadeCodeOf(err)) {
    case ErrorCode.NoResponders:
      return 'a service it depends on is not running';
    case ErrorCode.RequestTimeout:
      return 'a service it depends on did not answer in time';
    case ErrorCode.JetStream:
    case ErrorCode.NoStream:
      return 'durable storage (JetStream) is unavailable';
    case ErrorCode.NotRunning:
    case ErrorCode.ConnectionFailed:
      return 'the service is not connected to NATS';
    default:
      return undefined;
  }
}

/** Headers and body of an error reply. Header values are kept to one line. */
export function encodeErrorReply(error: ServiceError): {
  headers: Record<string, string>;
  body: Uint8Array;
} {
  const message = error.message.replace(/[\r\n]+/g, ' ');
  return {
    headers: { [SERVICE_ERROR]: message, [SERVICE_ERROR_CODE]: String(error.status) },
    body: jsonCodec.encode(
      error.details === undefined
        ? { code: error.status, message }
        : { code: error.status, message, details: error.details },
    ),
  };
}

/** A `ServiceError` when the reply carries the error headers, else `undefined`. */
export function decodeErrorReply(msg: WireMessage): ServiceError | undefined {
  const codeHeader = readHeader(msg, SERVICE_ERROR_CODE);
  if (codeHeader === undefined) return undefined;
  const parsed = Number.parseInt(codeHeader, 10);
  const status =
    Number.isInteger(parsed) && parsed >= 100 && parsed <= 999 ? parsed : ServiceStatus.Internal;
  const message = readHeader(msg, SERVICE_ERROR) ?? `service error ${codeHeader}`;
  let details: unknown;
  try {
    details = (jsonCodec.decode(msg.data) as { details?: unknown } | undefined)?.details;
  } catch {
    details = undefined; // the headers are the contract; a body is optional
  }
  return ServiceError.fromStatus(status, message, details);
}
