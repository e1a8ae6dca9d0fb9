/**
 * `@brigade/core/internal`: the pieces Brigade's own specs and tools reach past the public API
 * for. Nothing here is covered by the package's compatibility promise.
 */
export { exploreServices } from './discovery/service-explorer';
export { defineStreams, subjectCovers } from './discovery/stream-declaration';
export type { DurableDefinition } from './discovery/handler-definition';
export { defineDeadLetters } from './jetstream/dead-letter-settings';
export { DeadLetterWriter } from './jetstream/dead-letter-writer';
export { JetStreamContext } from './jetstream/jetstream-context';
export { JetStreamSchedules } from './jetstream/jetstream-schedules';
export { atLeast, Features, ServerCapabilities } from './jetstream/server-features';
export { HandlerCounters } from './pipeline/handler-stats';
export { HandlerInvoker } from './pipeline/handler-invoker';
export { handlerSteps } from './app/steps';
export { HandlerContext, type ContextEnvironment } from './pipeline/handler-context';
export { HookedScope, StorageScope, type ContextScope } from './pipeline/context-scope';
export {
  NatsTransport,
  TESTED_NATS_VERSION,
  untestedClientWarning,
} from './transport/nats-transport';
export { jsonCodec } from './transport/json.codec';
export { headerBlockText, IRREGULAR, scanHeaderBlock } from './transport/header-block';
export { headerFault, readHeader } from './transport/header-codec';
export { readFramesOf } from './transport/frame-reader';
export { encodeCommandsOf } from './transport/command-encoding';
