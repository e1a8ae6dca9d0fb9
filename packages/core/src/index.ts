// First: the polyfill that decorator metadata and tsyringe need, loaded before any decorated class
// of a program that imports Brigade is defined (and before tsyringe, which refuses to load
// without it). Nobody has to remember the import line.
import 'reflect-metadata';
import { BrigadeApp } from './app/brigade-app';
import type { BrigadeOptions } from './app/brigade-options';
import { runApp } from './app/run-app';

/** The way to start a Brigade app: `start` for a program of your own, `run` as a main program. */
export const Brigade = {
  /**
   * Validates the services, connects, resolves each service from the container and subscribes
   * every handler. Resolves once every subscription is live on the server; on any failure the
   * connection is closed and the error names what was wrong.
   */
  start: (options: BrigadeOptions): Promise<BrigadeApp> => BrigadeApp.start(options),
  /**
   * The entry point of a service process: starts the app, stops it gracefully on SIGINT or
   * SIGTERM (a second signal exits at once), and exits non-zero when the start fails or the
   * connection is lost for good.
   */
  run: runApp,
};

// tsyringe's decorators and root container, from the one tsyringe Brigade uses: imported from here
// they come after the polyfill, whatever the order of a file's imports.
export { container, inject, injectable, singleton, type DependencyContainer } from 'tsyringe';
export { Service } from './decorators/service.decorator';
export {
  endpoint,
  event,
  type ContractEntry,
  type EndpointContract,
  type EventContract,
  type EventOf,
  type HandledEventOf,
  type HandledRequestOf,
  type ReceivedReplyOf,
  type ReplyOf,
  type RequestOf,
} from './common/contract';
export {
  SCHEMA_METADATA,
  type InputOf,
  type OutputOf,
  type Schema,
  type SchemaIssue,
} from './common/schema';
export type { EntryDecorator } from './decorators/handler.decorator';
export { Subscribe } from './decorators/subscribe.decorator';
export { Endpoint } from './decorators/endpoint.decorator';
export type {
  BreakerOptions,
  DurableOptions,
  OrderKeyOption,
  EndpointOptions,
  HandlerOptions,
  PayloadEncoding,
  QueueGroupOption,
  ServiceOptions,
  SubscribeOptions,
} from './metadata/handler-options';
export type { HandlerDefinition, ServiceDefinition } from './discovery/handler-definition';
export type { BrigadeApp, HandlerSnapshot } from './app/brigade-app';
export type { BrigadeOptions } from './app/brigade-options';
export type { OpsOptions } from './app/ops-server';
export type { RunHooks } from './app/run-app';
export { BrigadeClient, type ClientOptions } from './app/brigade-client';
export {
  Bus,
  type GatheredReply,
  type DurablePublishOptions,
  type PublishOptions,
  type RequestManyOptions,
  type RequestOptions,
} from './bus/bus';
export type { PublishAck } from './jetstream/publish-ack';
export { DeadLetters, type DeadLetter, type DeadLetterFilter } from './jetstream/dead-letters';
export {
  Schedules,
  type Schedule,
  type ScheduleOptions,
  type ScheduleTiming,
} from './jetstream/schedules';
export { DeadLetterHeader, type DeadLetterOptions } from './jetstream/dead-letter-settings';
export type { StreamDeclaration } from './discovery/stream-declaration';
export {
  KeyValueBucket,
  KeyValueStores,
  type BucketOptions,
  type WriteOptions,
  type KeyValueEntry,
} from './jetstream/key-value';
export type { Duration } from './common/duration';
export type { MessageContext, MessageHeaders } from './common/message-context';
export type { HandlerStats } from './pipeline/handler-stats';
export type { Logger, LoggerSettings } from './common/logger';
export { CORRELATION_ID, REQUEST_TIMEOUT, TRACEPARENT, TRACESTATE } from './pipeline/trace-context';
export { toServiceError } from './pipeline/error-codec';
export type {
  HandlerInfo,
  HandlerKind,
  Invocation,
  Middleware,
  OutgoingMessage,
  OutgoingMiddleware,
} from './common/middleware';
export type { OnStart, OnStop } from './app/service-lifecycle';
export type {
  EndpointInfo,
  EndpointStats,
  InfoResponse,
  PingResponse,
  ServiceApiResponse,
  ServiceIdentity,
  StatsResponse,
} from './app/service-api-wire';
export { decodeJson, MAX_JSON_DEPTH } from './transport/json.codec';
export type { ConnectionSettings } from './transport/connection-settings';
export type { ConnectionState, ConnectionStatus } from './transport/connection-status';
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
  isOutage,
  isServiceError,
  JetStreamError,
  NoRespondersError,
  NoStreamError,
  NotFoundError,
  NotRunningError,
  PermanentError,
  ReflectMetadataError,
  RequestTimeoutError,
  ServerTooOldError,
  ServiceError,
  ServiceStatus,
  StartError,
  UnavailableError,
  ValidationError,
} from './common/errors';
