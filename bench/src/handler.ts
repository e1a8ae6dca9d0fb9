/**
 * The service side of a benchmark, in its own process:
 *   node bench/dist/handler.js <brigade|brigade-<variant>|raw> <nats-url> <expected-events>
 * Echoes requests on bench.echo and counts events on bench.event and benchdurable.event, in a
 * queue group, parsing every JSON body. When `expected` events arrived it publishes bench.done
 * with its CPU time per event, from the first to the last. Events on bench.warmup are parsed
 * the same way and not counted. Prints "ready" once it is subscribed.
 */
import 'reflect-metadata';
import { AckPolicy, connect, JSONCodec, type NatsConnection } from 'nats';
import { z } from 'zod';
import { Brigade, Bus, Endpoint, Service, Subscribe, type EndpointOptions } from '@brigade/core';
import { registerTracing } from './tracing';
import { STREAM, SUBJECTS, type HandlerReport } from './workload';

const [impl = 'brigade', url = 'nats://127.0.0.1:4222', expectedText = '0'] = process.argv.slice(2);
const expected = Number(expectedText);
let events = 0;
let done: (report: HandlerReport) => void = () => undefined;
let cpuAtFirst: NodeJS.CpuUsage | undefined;

/** The benchmark's order (workload.ts `payload`), as a zod schema for the `brigade-zod` runs. */
const Order = z.object({
  id: z.number().int(),
  customer: z.string().min(1),
  items: z
    .array(z.object({ dish: z.string().min(1), quantity: z.number().int().positive() }))
    .min(1),
});
const echoOptions: EndpointOptions =
  impl === 'brigade-zod' ? { request: Order, response: Order } : {};

function counted(): void {
  if (++events === 1) cpuAtFirst = process.cpuUsage();
  if (events !== expected) return;
  const cpu = process.cpuUsage(cpuAtFirst);
  done({ events, cpuNsPerEvent: ((cpu.user + cpu.system) * 1_000) / Math.max(1, events - 1) });
}

@Service({ name: 'bench' })
class BenchService {
  constructor(private readonly bus: Bus) {
    done = (report) => void this.bus.publish(SUBJECTS.done, report);
  }

  @Endpoint(SUBJECTS.request, echoOptions)
  echo(body: unknown): unknown {
    return body;
  }

  @Subscribe(SUBJECTS.event)
  event(_body: unknown): void {
    counted();
  }

  @Subscribe(SUBJECTS.warmup)
  warmup(_body: unknown): void {}

  @Subscribe(SUBJECTS.durable, { durable: { stream: STREAM, ackWait: '30s' }, concurrency: 256 })
  durable(_body: unknown): void {
    counted();
  }
}

async function raw(): Promise<void> {
  const nc: NatsConnection = await connect({ servers: url });
  const json = JSONCodec();
  done = (report) => nc.publish(SUBJECTS.done, json.encode(report));
  nc.subscribe(SUBJECTS.request, {
    queue: 'q',
    callback: (_e, m) => m.respond(json.encode(json.decode(m.data))),
  });
  nc.subscribe(SUBJECTS.warmup, { queue: 'bench', callback: (_e, m) => json.decode(m.data) });
  nc.subscribe(SUBJECTS.event, {
    queue: 'bench',
    callback: (_e, m) => {
      json.decode(m.data);
      counted();
    },
  });
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: STREAM, subjects: ['benchdurable.>'] }).catch(() => undefined);
  await jsm.consumers.add(STREAM, {
    durable_name: 'raw',
    ack_policy: AckPolicy.Explicit,
    filter_subject: SUBJECTS.durable,
    max_ack_pending: 1000,
  });
  const consumer = await nc.jetstream().consumers.get(STREAM, 'raw');
  await consumer.consume({
    max_messages: 256,
    callback: (m) => {
      json.decode(m.data);
      m.ack();
      counted();
    },
  });
  await nc.flush();
}

async function main(): Promise<void> {
  if (impl === 'raw') await raw();
  else {
    if (impl === 'brigade-traced') registerTracing();
    await Brigade.start({
      services: [BenchService],
      nats: { servers: url },
      logger: { level: 'warn' },
      streams: [{ name: STREAM, subjects: ['benchdurable.>'] }],
      metrics: impl === 'brigade-metrics',
      middleware: impl === 'brigade-middleware' ? [(_invocation, next) => next()] : [],
    });
  }
  process.stdout.write('ready\n');
}

process.once('SIGINT', () => process.exit(0));
void main();
