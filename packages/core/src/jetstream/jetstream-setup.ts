import type { NatsTransport } from '../transport/nats-transport';
import type {
  DurableDefinition,
  HandlerDefinition,
  ServiceDefinition,
} from '../discovery/handler-definition';
import { backstopDefinition, MaxDeliveriesBackstop } from './max-deliveries-backstop';
import type { StreamDefinition } from '../discovery/stream-declaration';
import type { Logger } from '../common/logger';
import type { DeadLetterSettings } from './dead-letter-settings';
import { DeadLetterWriter } from './dead-letter-writer';
import { JetStreamContext, whileUnavailable } from './jetstream-context';
import { StreamProvisioner } from './stream-provisioner';

/** Opens the connection's JetStream context once, on first use. */
export function lazyJetStream(transport: NatsTransport): () => Promise<JetStreamContext> {
  let opening: Promise<JetStreamContext> | undefined;
  return () => {
    opening ??= JetStreamContext.open(transport).catch((err: unknown) => {
      opening = undefined; // let a later call try again
      throw err;
    });
    return opening;
  };
}

/**
 * Provisions the declared streams and, when any handler is durable, the dead-letter stream and
 * one durable consumer per durable handler. Returns the dead-letter writer durable bindings use,
 * or `undefined` when the app has no durable handlers.
 */
export async function provisionJetStream(
  jetstream: () => Promise<JetStreamContext>,
  streams: readonly StreamDefinition[],
  services: readonly ServiceDefinition[],
  deadLetters: DeadLetterSettings,
  logger: Logger,
): Promise<DurableSetup | undefined> {
  const durables = services.flatMap((service) =>
    service.handlers.flatMap((handler) =>
      handler.durable ? [{ owner: `${service.target.name}.${handler.method}`, handler }] : [],
    ),
  );
  if (streams.length === 0 && durables.length === 0) return undefined;
  const context = await whileUnavailable('opening JetStream', jetstream, logger);
  const provisioner = new StreamProvisioner(context, logger);
  const ensure = (what: string, step: () => Promise<void>): Promise<void> =>
    whileUnavailable(`provisioning ${what}`, step, logger);
  for (const stream of streams)
    await ensure(`stream '${stream.name}'`, () => provisioner.ensureStream(stream));
  if (durables.length === 0) return undefined;
  for (const stream of [deadLetters.stream, deadLetters.advisories])
    await ensure(`stream '${stream.name}'`, () => provisioner.ensureStream(stream));
  const writer = new DeadLetterWriter(context, deadLetters, logger);
  const backstops = new Map<HandlerDefinition, HandlerDefinition>();
  for (const { owner, handler } of durables) {
    const backstop = backstopDefinition(handler, deadLetters);
    backstops.set(handler, backstop);
    for (const definition of [handler, backstop]) {
      const durable = definition.durable as DurableDefinition;
      await ensure(`consumer '${durable.consumer}'`, () =>
        provisioner.ensureConsumer({ owner, subject: definition.subject, durable }),
      );
    }
  }
  return { context, writer, backstop: new MaxDeliveriesBackstop(context, writer), backstops };
}

/** What durable bindings need: the JetStream context, the dead-letter writer and the backstops. */
export interface DurableSetup {
  readonly context: JetStreamContext;
  readonly writer: DeadLetterWriter;
  /** The handler instance of every backstop binding. */
  readonly backstop: MaxDeliveriesBackstop;
  /** The backstop handler of each durable handler. */
  readonly backstops: ReadonlyMap<HandlerDefinition, HandlerDefinition>;
}
