import { clip } from './clip';

/**
 * Every error Brigade raises carries a stable `code` from this table, so callers can branch on
 * `err.code` without matching on messages.
 */
export const ErrorCode = {
  /** A decorated class or handler is invalid; raised by `start()`. */
  InvalidDefinition: 'INVALID_DEFINITION',
  /** `reflect-metadata` is missing or design-time metadata was not emitted. */
  MissingReflectMetadata: 'MISSING_REFLECT_METADATA',
  /** An option passed to Brigade is invalid. */
  InvalidOption: 'INVALID_OPTION',
  /** The NATS connection could not be made (unreachable, bad credentials, TLS). */
  ConnectionFailed: 'CONNECTION_FAILED',
  /** The operation needs a running app or an open connection. */
  NotRunning: 'NOT_RUNNING',
  /** A payload could not be encoded or decoded. */
  Codec: 'CODEC_ERROR',
  /** Nobody subscribes to the subject of a request (server status 503). */
  NoResponders: 'NO_RESPONDERS',
  /** The requester gave up waiting for a reply. */
  RequestTimeout: 'REQUEST_TIMEOUT',
  /** A service answered with an error reply (`Nats-Service-Error-Code`). */
  ServiceError: 'SERVICE_ERROR',
  /** JetStream is not enabled on the server, or a stream or consumer cannot be provisioned. */
  JetStream: 'JETSTREAM_ERROR',
  /** A durable publish went to a subject no stream stores. */
  NoStream: 'NO_STREAM',
  /** A durable handler's failure that retrying cannot fix: dead-letter at once. */
  Permanent: 'PERMANENT_FAILURE',
  /** No dead letter with that sequence. */
  DeadLetterNotFound: 'DEAD_LETTER_NOT_FOUND',
  /** A service's `onStart()` failed, so the app did not start. */
  StartFailed: 'START_FAILED',
  /** What was asked needs a newer nats-server (or JetStream API level) than the one connected. */
  ServerTooOld: 'SERVER_TOO_OLD',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every error Brigade raises. */
export class BrigadeError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A decorated class, handler or option is wrong; the message names the culprit. */
export class DefinitionError extends BrigadeError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.InvalidDefinition, message, options);
  }
}

export class ReflectMetadataError extends BrigadeError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.MissingReflectMetadata, message, options);
  }
}

export class InvalidOptionError extends BrigadeError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.InvalidOption, message, options);
  }
}

export class ConnectionError extends BrigadeError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.ConnectionFailed, message, options);
  }
}

export class NotRunningError extends BrigadeError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.NotRunning, message, options);
  }
}

export class CodecError extends BrigadeError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Codec, message, options);
  }
}

/** JetStream is off, or a stream or consumer could not be provisioned; the message says which. */
export class JetStreamError extends BrigadeError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.JetStream, message, options);
  }
}

/**
 * What was asked (a stream option, a publish option) needs a newer nats-server than the one
 * connected; raised before anything is sent or created. The message names the feature, the
 * version and JetStream API level it needs, and the server connected to.
 */
export class ServerTooOldError extends BrigadeError {
  constructor(
    /** What needs the feature: `per-message TTL on stream 'ORDERS'`. */
    readonly feature: string,
    /** The oldest nats-server that has it: `2.11`. */
    readonly needs: string,
    /** The version of the server connected to. */
    readonly connected: string,
    message: string,
  ) {
    super(ErrorCode.ServerTooOld, message);
  }
}

/** A durable publish to a subject that no stream stores: nothing was kept. */
export class NoStreamError extends BrigadeError {
  constructor(
    readonly subject: string,
    options?: ErrorOptions,
  ) {
    super(
      ErrorCode.NoStream,
      `no stream stores subject '${subject}': declare a stream whose subjects cover it (Brigade.start({ streams }))`,
      options,
    );
  }
}

/**
 * Thrown from a durable handler for a failure that retrying cannot fix: the message goes to the
 * dead-letter stream at once instead of being redelivered. `BadRequestError` and
 * `ValidationError` count as permanent too.
 */
export class PermanentError extends BrigadeError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Permanent, message, options);
  }
}

/** A service's `onStart()` failed; the message names the service, the cause is kept. */
export class StartError extends BrigadeError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.StartFailed, message, options);
  }
}

export class DeadLetterNotFoundError extends BrigadeError {
  constructor(
    readonly sequence: number,
    options?: ErrorOptions,
  ) {
    super(ErrorCode.DeadLetterNotFound, `no dead letter with sequence ${sequence}`, options);
  }
}

/** Nobody listens on the subject a request was sent to. Raised by the client, never on the wire. */
export class NoRespondersError extends BrigadeError {
  constructor(
    readonly subject: string,
    options?: ErrorOptions,
  ) {
    super(ErrorCode.NoResponders, `no responders are listening on '${subject}'`, options);
  }
}

/** The requester's own deadline passed before a reply came. Raised by the client. */
export class RequestTimeoutError extends BrigadeError {
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
    options?: ErrorOptions,
  ) {
    super(
      ErrorCode.RequestTimeout,
      `request to '${subject}' timed out after ${timeoutMs} ms`,
      options,
    );
  }
}

/**
 * The wire status codes of the NATS Service API error headers, HTTP-like.
 * `Nats-Service-Error-Code` carries one of these (any integer is accepted on read).
 */
export const ServiceStatus = {
  BadRequest: 400,
  NotFound: 404,
  Timeout: 408,
  Conflict: 409,
  Validation: 422,
  Internal: 500,
  Unavailable: 503,
} as const;

/**
 * An error a handler means to send to its caller. Thrown from an endpoint, it becomes the
 * `Nats-Service-Error` / `Nats-Service-Error-Code` headers plus a JSON body
 * `{"code", "message", "details"}`; a Brigade client turns such a reply back into the matching
 * subclass. `message` and `details` travel as they are: keep them safe to show to a caller.
 */
export class ServiceError extends BrigadeError {
  /** The integer of `Nats-Service-Error-Code`. */
  readonly status: number;
  /** JSON-serialisable data for the caller, sent in the body. */
  readonly details: unknown;

  constructor(status: number, message: string, options?: ErrorOptions & { details?: unknown }) {
    super(ErrorCode.ServiceError, message, options);
    if (!Number.isInteger(status) || status < 100 || status > 999) {
      throw new InvalidOptionError(
        `ServiceError status must be an integer from 100 to 999, got ${String(status)}`,
      );
    }
    this.status = status;
    this.details = options?.details;
  }

  /** Rebuilds the most specific error class for a status read off the wire. */
  static fromStatus(status: number, message: string, details?: unknown): ServiceError {
    const ErrorClass = STATUS_CLASSES.get(status);
    return ErrorClass
      ? new ErrorClass(message, { details })
      : new ServiceError(status, message, { details });
  }
}

type StatusErrorOptions = ErrorOptions & { details?: unknown };

/** 400: the request could not be understood (malformed JSON, say). */
export class BadRequestError extends ServiceError {
  constructor(message: string, options?: StatusErrorOptions) {
    super(ServiceStatus.BadRequest, message, options);
  }
}

/**
 * 400: a message cannot be sent to this subject (invalid syntax, a wildcard, or too long for the
 * server's control line); refused before anything is sent. Subjects are often built from input.
 */
export class InvalidSubjectError extends BadRequestError {
  constructor(
    readonly subject: string,
    problem: string,
    options?: StatusErrorOptions,
  ) {
    super(`cannot send to subject '${clip(String(subject))}': ${problem}`, options);
  }
}

/** 400: a key-value key that a bucket cannot hold; refused before anything is sent. */
export class InvalidKeyError extends BadRequestError {
  constructor(
    readonly key: string,
    problem: string,
    options?: StatusErrorOptions,
  ) {
    super(`invalid key '${clip(String(key))}': ${problem}`, options);
  }
}

/** 404: the thing asked for does not exist. */
export class NotFoundError extends ServiceError {
  constructor(message: string, options?: StatusErrorOptions) {
    super(ServiceStatus.NotFound, message, options);
  }
}

/**
 * 408: the handler ran out of time (its caller's deadline passed). Not named `TimeoutError`, the
 * name of the `DOMException` that `AbortSignal.timeout` raises.
 */
export class DeadlineExceededError extends ServiceError {
  constructor(message: string, options?: StatusErrorOptions) {
    super(ServiceStatus.Timeout, message, options);
  }
}

/** 409: the request conflicts with the current state. */
export class ConflictError extends ServiceError {
  constructor(message: string, options?: StatusErrorOptions) {
    super(ServiceStatus.Conflict, message, options);
  }
}

/** 422: well-formed input that breaks a rule; `details` may list the offending fields. */
export class ValidationError extends ServiceError {
  constructor(message: string, options?: StatusErrorOptions) {
    super(ServiceStatus.Validation, message, options);
  }
}

/** 500: the handler failed in a way it did not mean to show; the message stays generic. */
export class InternalError extends ServiceError {
  constructor(message: string, options?: StatusErrorOptions) {
    super(ServiceStatus.Internal, message, options);
  }
}

/** 503: the service cannot take the request now (overloaded, shutting down). */
export class UnavailableError extends ServiceError {
  constructor(message: string, options?: StatusErrorOptions) {
    super(ServiceStatus.Unavailable, message, options);
  }
}

const STATUS_CLASSES = new Map<
  number,
  new (message: string, options?: StatusErrorOptions) => ServiceError
>([
  [ServiceStatus.BadRequest, BadRequestError],
  [ServiceStatus.NotFound, NotFoundError],
  [ServiceStatus.Timeout, DeadlineExceededError],
  [ServiceStatus.Conflict, ConflictError],
  [ServiceStatus.Validation, ValidationError],
  [ServiceStatus.Internal, InternalError],
  [ServiceStatus.Unavailable, UnavailableError],
]);

/**
 * True for a `ServiceError`, also one raised by another copy of this library (a second install in
 * a user's tree): recognised by its code and status as well as by `instanceof`.
 */
export function isServiceError(error: unknown): error is ServiceError {
  if (error instanceof ServiceError) return true;
  const candidate = error as Partial<ServiceError> | null;
  return (
    error instanceof Error &&
    candidate?.code === ErrorCode.ServiceError &&
    Number.isInteger(candidate.status)
  );
}

/** The stable `code` of a Brigade error (of any copy of this library), else `undefined`. */
export function brigadeCodeOf(error: unknown): ErrorCode | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && CODES.has(code as ErrorCode) ? (code as ErrorCode) : undefined;
}

const CODES = new Set<ErrorCode>(Object.values(ErrorCode));

/**
 * True for the signs of a downstream outage, as opposed to a bad message: a 503 (an
 * `UnavailableError`, or a 503 a service replied with), no responders, a request time-out. What
 * a durable handler's `breaker` counts by default.
 */
export function isOutage(error: unknown): boolean {
  const code = brigadeCodeOf(error);
  return (
    code === ErrorCode.NoResponders ||
    code === ErrorCode.RequestTimeout ||
    (isServiceError(error) && error.status === ServiceStatus.Unavailable)
  );
}
