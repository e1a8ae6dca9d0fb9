import { JSONCodec, headers as createHeaders, type NatsConnection } from 'nats';

const json = JSONCodec();

/** Publishes `count` events `{ id }` through JetStream with the plain nats client, as any producer would. */
export async function publishEvents(
  nc: NatsConnection,
  subject: string,
  ids: readonly string[],
  headers?: Record<string, string>,
): Promise<void> {
  const js = nc.jetstream();
  const hdrs = headers ? createHeaders() : undefined;
  for (const [k, v] of Object.entries(headers ?? {})) hdrs?.set(k, v);
  await Promise.all(
    ids.map((id) => js.publish(subject, json.encode({ id }), { msgID: id, headers: hdrs })),
  );
}

export function ids(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

/** The consumer's counters as the server sees them. */
export async function consumerState(nc: NatsConnection, stream: string, consumer: string) {
  const info = await (await nc.jetstreamManager()).consumers.info(stream, consumer);
  return {
    pending: info.num_pending,
    ackPending: info.num_ack_pending,
    redelivered: info.num_redelivered,
  };
}
