import type { NatsConnection } from 'nats';
import type { ServiceDefinition } from '../discovery/handler-definition';
import type { StreamDefinition } from '../discovery/stream-declaration';
import type { Logger } from '../runtime/logger';
import type { DeadLetterSettings } from './dead-letter-settings';
import { DeadLetterWriter } from './dead-letter-writer';
import { JetStreamContext } from './jetstream-context';
import { StreamProvisioner } from './stream-provisioner';

/** Opens the connection's JetStream context once, on first use. */
export function lazyJetStream(nc: NatsConnection): () => Promise<JetStreamContext> {
  let opening: Promise<JetStreamContext> | undefined;
  return () => {
    opening ??= JetStreamContext.open(nc).catch((err: unknown) => {
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
): Promise<{ context: JetStreamContext; writer: DeadLetterWriter } | undefined> {
  const durables = services.flatMap((service) =>
    service.handlers.flatMap((handler) =>
      handler.durable
        ? [
            {
              owner: `${service.target.name}.${handler.method}`,
              subject: handler.subject,
              durable: handler.durable,
            },
          ]
        : [],
    ),
  );
  if (streams.length === 0 && durables.length === 0) return undefined;
  const context = await jetstream();
  const provisioner = new StreamProvisioner(context, logger);
  for (const stream of streams) await provisioner.ensureStream(stream);
  if (durables.length === 0) return undefined;
  await provisioner.ensureStream(deadLetters.stream);
  for (const request of durables) await provisioner.ensureConsumer(request);
  return { context, writer: new DeadLetterWriter(context, deadLetters, logger) };
}
