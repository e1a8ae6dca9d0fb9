/**
 * The receiving side of one event or one request, isolated from the socket and the other
 * processes, for `instructions.ts`:
 *   node bench/dist/feed.js <brigade|brigade-middleware|raw> <nats-url> <messages> [event|request]
 * Subscribes the way handler.js does (Brigade: a service; raw: queue subscriptions parsing the
 * JSON), then hands `messages` frames to the connection's protocol parser as the socket would
 * (Buffers of 400 frames each), yielding to the event loop every 16 of them. Events are MSG
 * frames on bench.event. Requests are frames on bench.echo with a reply subject, as each
 * requester sends them: Brigade's with its `brigade-timeout-ms` header (HMSG), raw's without
 * (MSG); the replies go to the server, where nobody listens for them. Reaches into the `nats`
 * client for the parser and the subscriptions' sids: a bench tool's licence, nothing Brigade
 * itself does.
 */
import 'reflect-metadata';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { Brigade, Endpoint, Service, Subscribe } from '@brigade/core';
import { payload, SUBJECTS } from './workload';

const [
  impl = 'brigade',
  url = 'nats://127.0.0.1:4222',
  messagesText = '100000',
  scenario = 'event',
] = process.argv.slice(2);
const messages = Number(messagesText);
const subject = scenario === 'request' ? SUBJECTS.request : SUBJECTS.event;
/** The header block Brigade's requester puts on a request with the default timeout. */
const TIMEOUT_HEADERS = 'NATS/1.0\r\nbrigade-timeout-ms: 5000\r\n\r\n';
const FRAMES_PER_BUFFER = 400;
let handled = 0;

@Service({ name: 'bench' })
class FeedService {
  @Subscribe(SUBJECTS.event)
  event(_body: unknown): void {
    handled++;
  }

  @Endpoint(SUBJECTS.request)
  echo(body: unknown): unknown {
    handled++;
    return body;
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
    nc.subscribe(SUBJECTS.request, {
      queue: 'q',
      callback: (_e, m) => {
        handled++;
        m.respond(json.encode(json.decode(m.data)));
      },
    });
    return nc;
  }
  const app = await Brigade.start({
    services: [FeedService],
    nats: { servers: url },
    logger: { level: 'warn' },
    middleware: impl === 'brigade-middleware' ? [(_invocation, next) => next()] : [],
  });
  return (app as unknown as { parts: { transport: { connection: NatsConnection } } }).parts
    .transport.connection;
}

/** One frame as the server delivers it; `n` numbers the request's reply inbox. */
function frame(sid: number, n: number, body: string): string {
  const size = Buffer.byteLength(body);
  if (scenario !== 'request') return `MSG ${subject} ${sid} ${size}\r\n${body}\r\n`;
  const reply = `_INBOX.FEED.${n}`;
  if (impl === 'raw') return `MSG ${subject} ${sid} ${reply} ${size}\r\n${body}\r\n`;
  const hlen = TIMEOUT_HEADERS.length;
  return `HMSG ${subject} ${sid} ${reply} ${hlen} ${hlen + size}\r\n${TIMEOUT_HEADERS}${body}\r\n`;
}

async function main(): Promise<void> {
  const nc = await connection();
  await nc.flush();
  const { protocol } = nc as unknown as ClientInternals;
  const sub = protocol.subscriptions.all().find((s) => s.subject === subject);
  if (!sub) throw new Error(`no subscription on ${subject}`);
  const chunks = Array.from({ length: 8 }, (_, c) => {
    let text = '';
    for (let i = 0; i < FRAMES_PER_BUFFER; i++) {
      const n = c * FRAMES_PER_BUFFER + i;
      text += frame(sub.sid, n, JSON.stringify(payload(n)));
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
    throw new Error(`handled ${handled} of ${rounds * FRAMES_PER_BUFFER} ${scenario}s`);
  process.stdout.write(`${handled}\n`);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
