import './metadata/require-reflect';
import { BrigadeApp } from './runtime/brigade-app';
import type { BrigadeOptions } from './runtime/brigade-options';
import { runApp } from './runtime/run-app';

/** Starting points of a Brigade app. */
export const Brigade = {
  /** Starts the services; see `BrigadeApp.start`. */
  start: (options: BrigadeOptions): Promise<BrigadeApp> => BrigadeApp.start(options),
  /** Starts the services as a process's main program, with signal handling; see `runApp`. */
  run: runApp,
};

export { Service } from './decorators/service.decorator';
export { Subscribe } from './decorators/subscribe.decorator';
export { Endpoint } from './decorators/endpoint.decorator';
export type {
  DurableOptions,
  OrderKeyOption,
  EndpointOptions,
  HandlerKind,
  HandlerOptions,
  PayloadEncoding,
  QueueGroupOption,
  ServiceOptions,
  SubscribeOptions,
} from './metadata/handler-options';
export type { HandlerDefinition, ServiceDefinition } from './discovery/handler-definition';
export { BrigadeApp, type HandlerSnapshot } from './runtime/brigade-app';
export type { BrigadeOptions } from './runtime/brigade-options';
export { runApp, type RunHooks } from './runtime/run-app';
export { BrigadeClient, type ClientOptions } from './runtime/brigade-client';
export {
  Bus,
  type GatheredReply,
  type DurablePublishOptions,
  type PublishOptions,
  type RequestManyOptions,
  type RequestOptions,
} from './runtime/bus';
export type { PublishAck } from './jetstream/jetstream-context';
export { DeadLetters, type DeadLetter, type DeadLetterFilter } from './jetstream/dead-letters';
export { DeadLetterHeader, type DeadLetterOptions } from './jetstream/dead-letter-settings';
export type { StreamDeclaration } from './discovery/stream-declaration';
export {
  KeyValueBucket,
  KeyValueStores,
  type BucketOptions,
  type KeyValueEntry,
} from './jetstream/key-value';
export type { Duration } from './discovery/duration';
export type { MessageContext, MessageHeaders } from './runtime/message-context';
export type { HandlerStats } from './runtime/handler-stats';
export type { Logger, LoggerSettings } from './runtime/logger';
export { CORRELATION_ID, REQUEST_TIMEOUT, TRACEPARENT, TRACESTATE } from './runtime/trace-context';
export { toServiceError } from './runtime/error-codec';
export type {
  HandlerInfo,
  Invocation,
  Middleware,
  OutgoingMessage,
  OutgoingMiddleware,
} from './runtime/middleware';
export type { OnStart, OnStop } from './runtime/service-lifecycle';
export type {
  EndpointInfo,
  EndpointStats,
  InfoResponse,
  PingResponse,
  ServiceApiResponse,
  ServiceIdentity,
  StatsResponse,
} from './runtime/service-api-wire';
export { decodeJson, MAX_JSON_DEPTH } from './transport/json.codec';
export type { ConnectionSettings } from './transport/connection-settings';
export type { HeaderInit } from './transport/wire-message';
export {
  BadRequestError,
  BrigadeError,
  CodecError,
  ConflictError,
  ConnectionError,
  DeadLetterNotFoundError,
  DeadlineExceededError,
  DefinitionError,
  ErrorCode,
  InternalError,
  InvalidKeyError,
  InvalidOptionError,
  InvalidSubjectError,
  isServiceError,
  JetStreamError,
  NoRespondersError,
  NoStreamError,
  NotFoundError,
  NotRunningError,
  PermanentError,
  ReflectMetadataError,
  RequestTimeoutError,
  ServiceError,
  ServiceStatus,
  StartError,
  UnavailableError,
  ValidationError,
} from './errors';
