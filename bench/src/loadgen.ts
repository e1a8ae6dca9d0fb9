/**
 * The client side of a benchmark, in its own process:
 *   node bench/dist/loadgen.js <impl> <scenario> <nats-url> <ops> [in-flight]
 * Prints one JSON Measurement line.
 */
import 'reflect-metadata';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { BrigadeClient } from '@brigade/core';
import { registerTracing } from './tracing';
import {
  isBrigade,
  payload,
  percentile,
  SUBJECTS,
  type HandlerReport,
  type Implementation,
  type Measurement,
  type Scenario,
} from './workload';

const [impl, scenario, url, opsText, inFlightText = '1'] = process.argv.slice(2) as [
  Implementation,
  Scenario,
  string,
  string,
  string?,
];
// `t60` instead of a count: keep going for 60 seconds (for the memory run).
const forSeconds = opsText.startsWith('t') ? Number(opsText.slice(1)) : undefined;
const ops = forSeconds === undefined ? Number(opsText) : Number.MAX_SAFE_INTEGER;
const inFlight = Number(inFlightText);
const json = JSONCodec();
const WINDOW = Number(process.env['BENCH_WINDOW'] ?? 256);
const WARMUP_EVENTS = 50_000;

interface Requester {
  request(n: number): Promise<unknown>;
  publish(subject: string, n: number): void;
  publishDurable(n: number): Promise<unknown>;
  connection: NatsConnection | undefined;
  close(): Promise<void>;
}

async function requester(): Promise<Requester> {
  if (isBrigade(impl)) {
    if (impl === 'brigade-traced') registerTracing();
    const client = await BrigadeClient.connect({
      nats: { servers: url },
      logger: { level: 'warn' },
    });
    return {
      request: (n) => client.bus.request(SUBJECTS.request, payload(n)),
      publish: (subject, n) => void client.bus.publish(subject, payload(n)),
      publishDurable: (n) =>
        client.bus.publish(SUBJECTS.durable, payload(n), { durable: true, msgId: `m${n}` }),
      connection: undefined,
      close: () => client.close(),
    };
  }
  const nc = await connect({ servers: url, noAsyncTraces: impl === 'raw-noasynctraces' });
  const js = nc.jetstream();
  return {
    request: async (n) =>
      json.decode(
        (await nc.request(SUBJECTS.request, json.encode(payload(n)), { timeout: 5_000 })).data,
      ),
    publish: (subject, n) => nc.publish(subject, json.encode(payload(n))),
    publishDurable: (n) =>
      js.publish(SUBJECTS.durable, json.encode(payload(n)), { msgID: `m${n}` }),
    connection: nc,
    close: () => nc.drain(),
  };
}

/** Waits for the handler's bench.done on a connection of its own. */
async function whenHandled(): Promise<() => Promise<HandlerReport>> {
  const watcher = await connect({ servers: url });
  const sub = watcher.subscribe(SUBJECTS.done, { max: 1 });
  await watcher.flush();
  return async () => {
    let report: HandlerReport | undefined;
    for await (const m of sub) {
      report = json.decode(m.data) as HandlerReport;
      break;
    }
    await watcher.close();
    if (!report) throw new Error('the handler never reported');
    return report;
  };
}

async function requests(r: Requester): Promise<Measurement> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = forSeconds === undefined ? Infinity : started + forSeconds * 1_000;
  const worker = async (): Promise<void> => {
    while (next < ops && performance.now() < deadline) {
      const n = next++;
      const t = performance.now();
      await r.request(n);
      latencies.push((performance.now() - t) * 1_000);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - started) / 1_000;
  latencies.sort((a, b) => a - b);
  const done = latencies.length;
  return {
    ops: done,
    seconds,
    perSecond: done / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

async function publishAll(r: Requester, subject: string, count: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    r.publish(subject, n);
    if (n % 1_000 === 999) await new Promise(setImmediate); // let the socket drain
  }
}

async function events(r: Requester, durable: boolean): Promise<Measurement> {
  if (!durable) {
    // Warm the handler's code paths (and JIT) first; a request behind them returns once the
    // handler, which takes messages in order, has had them.
    await publishAll(r, SUBJECTS.warmup, WARMUP_EVENTS);
    await r.request(0);
  }
  const handled = await whenHandled();
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  if (durable) {
    // Keep a window of acknowledgements outstanding, as a real producer would.
    const window = new Set<Promise<unknown>>();
    for (let n = 0; n < ops; n++) {
      const p = r.publishDurable(n).finally(() => window.delete(p));
      window.add(p);
      if (window.size >= WINDOW) await Promise.race(window);
    }
    await Promise.all(window);
  } else {
    await publishAll(r, SUBJECTS.event, ops);
  }
  const report = await handled();
  const seconds = (performance.now() - started) / 1_000;
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    ops,
    seconds,
    perSecond: ops / seconds,
    handlerCpuNs: report.cpuNsPerEvent,
    senderCpuNs: ((cpu.user + cpu.system) * 1_000) / ops,
  };
}

async function main(): Promise<void> {
  const r = await requester();
  // Warm up the code paths (and JIT) before measuring.
  for (let i = 0; i < 200 && scenario === 'request'; i++) await r.request(i);
  const result =
    scenario === 'request' ? await requests(r) : await events(r, scenario === 'durable');
  await r.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
