/**
 * The receiving side of one event, isolated from the socket and the other processes, for
 * `instructions.ts`:
 *   node bench/dist/feed.js <brigade|raw> <nats-url> <messages>
 * Subscribes to bench.event the way handler.js does (Brigade: a service; raw: a queue
 * subscription parsing the JSON), then hands `messages` events to the connection's protocol parser
 * as the socket would (Buffers of 400 MSG frames each), yielding to the event loop every 16 of
 * them. Reaches into the `nats` client for the parser and the subscription's sid: a bench tool's
 * licence, nothing Brigade itself does.
 */
import 'reflect-metadata';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { Brigade, Service, Subscribe } from '@brigade/core';
import { payload, SUBJECTS } from './workload';

const [impl = 'brigade', url = 'nats://127.0.0.1:4222', messagesText = '100000'] =
  process.argv.slice(2);
const messages = Number(messagesText);
const FRAMES_PER_BUFFER = 400;
let handled = 0;

@Service({ name: 'bench' })
class FeedService {
  @Subscribe(SUBJECTS.event)
  event(_body: unknown): void {
    handled++;
  }
}

/** The parts of the `nats` client this tool feeds. */
interface ClientInternals {
  protocol: {
    parser: { parse(chunk: Uint8Array): void };
    subscriptions: { all(): { subject: string; sid: number }[] };
  };
}

async function connection(): Promise<NatsConnection> {
  if (impl === 'raw') {
    const nc = await connect({ servers: url });
    const json = JSONCodec();
    nc.subscribe(SUBJECTS.event, {
      queue: 'bench',
      callback: (_e, m) => {
        json.decode(m.data);
        handled++;
      },
    });
    return nc;
  }
  const app = await Brigade.start({
    services: [FeedService],
    nats: { servers: url },
    logger: { level: 'warn' },
  });
  return (app as unknown as { transport: { connection: NatsConnection } }).transport.connection;
}

async function main(): Promise<void> {
  const nc = await connection();
  await nc.flush();
  const { protocol } = nc as unknown as ClientInternals;
  const sub = protocol.subscriptions.all().find((s) => s.subject === SUBJECTS.event);
  if (!sub) throw new Error(`no subscription on ${SUBJECTS.event}`);
  const chunks = Array.from({ length: 8 }, (_, c) => {
    let text = '';
    for (let i = 0; i < FRAMES_PER_BUFFER; i++) {
      const body = JSON.stringify(payload(c * FRAMES_PER_BUFFER + i));
      text += `MSG ${SUBJECTS.event} ${sub.sid} ${Buffer.byteLength(body)}\r\n${body}\r\n`;
    }
    return Buffer.from(text);
  });
  const rounds = Math.ceil(messages / FRAMES_PER_BUFFER);
  for (let r = 0; r < rounds; r++) {
    protocol.parser.parse(chunks[r % chunks.length] as Buffer);
    if (r % 16 === 15) await new Promise(setImmediate);
  }
  await new Promise(setImmediate);
  if (handled !== rounds * FRAMES_PER_BUFFER)
    throw new Error(`handled ${handled} of ${rounds * FRAMES_PER_BUFFER} events`);
  process.stdout.write(`${handled}\n`);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
