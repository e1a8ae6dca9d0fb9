/**
 * npm run bench:scaling [-- --quick] [-- --out file.json]
 *
 * How cost grows: request-reply throughput and p99 against payload size and requests in flight
 * (Brigade and raw `nats`), start-up time and idle memory against handlers per process and
 * durable handlers per app, throughput against instances sharing a queue group, and Service API
 * discovery time against the number of instances. Each point has its own nats-server and
 * processes, as in `npm run bench`; the medians of the repetitions are written as JSON (for
 * `npm run bench:charts`) and printed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { BrigadeClient } from '@brigade/core';
import { NatsServer } from '@brigade/testing';
import { firstLine, median, node, stop, withHandler } from './harness';
import type { Implementation, Measurement } from './workload';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: join(__dirname, '..', '..', 'docs', 'charts', 'scaling.json') },
  },
});
const QUICK = args.quick ?? false;
const REPS = QUICK ? 1 : 3;
const CLI = join(__dirname, '..', '..', 'packages', 'cli', 'dist', 'main.js');

interface RatePoint {
  impl: Implementation;
  x: number;
  perSecond: number;
  p99: number;
}

async function requestReply(
  impl: Implementation,
  ops: number,
  inFlight: number,
  env: NodeJS.ProcessEnv = {},
  instances = 1,
): Promise<Measurement> {
  return withHandler(
    impl,
    0,
    async (url) =>
      JSON.parse(
        await firstLine(
          node('loadgen.js', [impl, 'request', url, String(ops), String(inFlight)], env),
        ),
      ) as Measurement,
    instances,
  );
}

/** The median of `REPS` measurements of a point, alternating Brigade and raw within each. */
async function ratePoints(
  xs: readonly number[],
  impls: readonly Implementation[],
  measure: (impl: Implementation, x: number) => Promise<Measurement>,
  what: string,
): Promise<RatePoint[]> {
  const points: RatePoint[] = [];
  for (const x of xs) {
    const runs = new Map<Implementation, Measurement[]>();
    for (let rep = 0; rep < REPS; rep++) {
      for (const impl of rep % 2 === 0 ? impls : [...impls].reverse()) {
        const m = await measure(impl, x);
        runs.set(impl, [...(runs.get(impl) ?? []), m]);
      }
    }
    for (const impl of impls) {
      const ms = runs.get(impl) ?? [];
      const point = {
        impl,
        x,
        perSecond: median(ms.map((m) => m.perSecond)),
        p99: median(ms.map((m) => m.p99 ?? 0)),
      };
      points.push(point);
      console.log(
        `  ${what} ${x}: ${impl} ${point.perSecond.toFixed(0)}/s, p99 ${point.p99.toFixed(0)} µs`,
      );
    }
  }
  return points;
}

interface StartupPoint {
  kind: 'endpoint' | 'durable';
  handlers: number;
  startMs: number;
  sinceProcessMs: number;
  rssMb: number;
}

async function startup(
  kind: 'endpoint' | 'durable',
  counts: readonly number[],
): Promise<StartupPoint[]> {
  const points: StartupPoint[] = [];
  for (const handlers of counts) {
    const runs: StartupPoint[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const server = await NatsServer.start({ jetstream: true });
      const child = node('startup.js', [kind, String(handlers), server.url]);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        runs.push(JSON.parse(await firstLine(child)) as StartupPoint);
        await exited; // it stops its app on the server first
      } finally {
        await stop(child);
        await server.stop();
      }
    }
    const point: StartupPoint = {
      kind,
      handlers,
      startMs: median(runs.map((r) => r.startMs)),
      sinceProcessMs: median(runs.map((r) => r.sinceProcessMs)),
      rssMb: median(runs.map((r) => r.rssMb)),
    };
    points.push(point);
    console.log(
      `  ${kind} handlers ${handlers}: start ${point.startMs.toFixed(0)} ms (${point.sinceProcessMs.toFixed(0)} ms since the process began), ${point.rssMb.toFixed(1)} MB RSS idle`,
    );
  }
  return points;
}

interface DiscoveryPoint {
  instances: number;
  /** Until the last PING answer arrived, from a client already connected. */
  pingMs: number;
  /** `brigade ls fleet`, the whole CLI process. */
  cliMs: number;
  cliListed: number;
}

const INSTANCES_PER_PROCESS = 10;

async function discovery(counts: readonly number[]): Promise<DiscoveryPoint[]> {
  const points: DiscoveryPoint[] = [];
  for (const instances of counts) {
    const server = await NatsServer.start();
    const fleets = Array.from({ length: Math.ceil(instances / INSTANCES_PER_PROCESS) }, (_, i) =>
      node('fleet.js', [
        String(Math.min(INSTANCES_PER_PROCESS, instances - i * INSTANCES_PER_PROCESS)),
        server.url,
      ]),
    );
    try {
      for (const fleet of fleets) await firstLine(fleet);
      const client = await BrigadeClient.connect({
        nats: { servers: server.url },
        logger: { level: 'warn' },
      });
      const runs: { pingMs: number; cliMs: number; cliListed: number }[] = [];
      for (let rep = 0; rep < REPS; rep++) {
        const began = performance.now();
        const replies = await client.bus.requestMany('$SRV.PING.fleet', undefined, {
          maxReplies: instances,
          maxWait: 10_000,
        });
        const pingMs = performance.now() - began;
        if (replies.length !== instances)
          throw new Error(`${replies.length} of ${instances} instances answered PING`);
        const cliBegan = performance.now();
        const listed = await cliLines(['ls', 'fleet', '-s', server.url]);
        runs.push({ pingMs, cliMs: performance.now() - cliBegan, cliListed: listed });
      }
      await client.close();
      const point = {
        instances,
        pingMs: median(runs.map((r) => r.pingMs)),
        cliMs: median(runs.map((r) => r.cliMs)),
        cliListed: median(runs.map((r) => r.cliListed)),
      };
      points.push(point);
      console.log(
        `  discovery of ${instances} instances: PING ${point.pingMs.toFixed(1)} ms; brigade ls ${point.cliMs.toFixed(0)} ms, ${point.cliListed} lines`,
      );
    } finally {
      await Promise.all(fleets.map(stop));
      await server.stop();
    }
  }
  return points;
}

/** Runs the CLI; resolves with the number of lines it printed. */
function cliLines(argv: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) =>
      code === 0
        ? resolve(out.split('\n').filter((l) => l.trim() !== '').length)
        : reject(new Error(`brigade ${argv.join(' ')} exited with ${String(code)}`)),
    );
  });
}

async function main(): Promise<void> {
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
  console.log(
    `Brigade scaling study: ${machine}; ${QUICK ? 'quick' : 'full'}, ${REPS} repetition(s) per point`,
  );
  const impls: Implementation[] = ['brigade', 'raw'];

  console.log('request-reply against payload size (64 in flight)');
  const sizes = QUICK ? [16, 1024, 65_536] : [16, 256, 1_024, 4_096, 16_384, 65_536];
  const payload = await ratePoints(
    sizes,
    impls,
    (impl, bytes) =>
      requestReply(
        impl,
        Math.round((QUICK ? 4_000 : 20_000) * Math.min(1, 4_096 / bytes) + 2_000),
        64,
        {
          BENCH_PAYLOAD_BYTES: String(bytes),
        },
      ),
    'bytes',
  );

  console.log('request-reply against requests in flight (~100-byte JSON)');
  const flights = QUICK ? [1, 64, 1_024] : [1, 4, 16, 64, 256, 1_024];
  const inFlight = await ratePoints(
    flights,
    impls,
    (impl, n) => requestReply(impl, n === 1 ? (QUICK ? 2_000 : 5_000) : QUICK ? 10_000 : 40_000, n),
    'in flight',
  );

  console.log('request-reply against instances sharing the queue group (256 in flight)');
  const instances = await ratePoints(
    QUICK ? [1, 2] : [1, 2, 3, 4],
    ['brigade'],
    (impl, n) => requestReply(impl, QUICK ? 10_000 : 60_000, 256, {}, n),
    'instances',
  );

  console.log('start-up and idle memory against handlers per process (endpoints)');
  const handlers = await startup('endpoint', QUICK ? [1, 100] : [1, 10, 100, 1_000]);
  console.log('start-up and idle memory against durable handlers per app');
  const durables = await startup('durable', QUICK ? [1, 10] : [1, 10, 25, 50]);
  console.log('Service API discovery against instances');
  const found = await discovery(QUICK ? [10, 50] : [10, 50, 100]);

  const out = args.out as string;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ machine, quick: QUICK, reps: REPS, payload, inFlight, instances, handlers, durables, discovery: found }, null, 2)}\n`,
  );
  console.log(`written: ${out}`);
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
});
