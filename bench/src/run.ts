/**
 * npm run bench            the full benchmark (several minutes)
 * npm run bench:check      a short run; exits 1 when a ratio falls under its case's floor
 *
 * Brigade against the raw `nats` client doing the same work, measured in the same run: for each
 * measurement a fresh nats-server, the handler in one process and the load generator in another.
 * Several repetitions, alternating which side goes first; medians of the rates, and the median of
 * the per-repetition ratios Brigade/raw.
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { firstLine, median, node, rssMb, withHandler } from './harness';
import { isBrigade, type Implementation, type Measurement, type Scenario } from './workload';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    only: { type: 'string' },
    'memory-seconds': { type: 'string' },
  },
});
const QUICK = args.quick ?? false;
const REPS = Number(args.reps ?? (QUICK ? 3 : 5));
const MEMORY_SECONDS = Number(args['memory-seconds'] ?? (QUICK ? 0 : 60));

interface Case {
  readonly name: string;
  readonly scenario: Scenario;
  readonly ops: number;
  readonly inFlight: number;
  readonly impls: readonly Implementation[];
  /**
   * The lowest ratio `bench:check` accepts: Brigade against raw `nats`, or for a case of a
   * Brigade variant, the variant against plain Brigade. None: reported, not checked.
   */
  readonly floor?: number;
}

const CASES: readonly Case[] = [
  {
    name: 'request-reply, 1 in flight',
    scenario: 'request',
    ops: QUICK ? 5_000 : 10_000,
    inFlight: 1,
    impls: ['brigade', 'raw', 'raw-noasynctraces'],
    floor: 0.95,
  },
  {
    name: 'request-reply, 64 in flight',
    scenario: 'request',
    ops: QUICK ? 30_000 : 150_000,
    inFlight: 64,
    impls: ['brigade', 'raw', 'raw-noasynctraces'],
    floor: 1.6,
  },
  {
    // What a schema costs: the same endpoint with zod request and response schemas, against
    // Brigade without them (not against raw: raw checks nothing).
    name: 'request-reply, 64 in flight, zod schemas on the endpoint',
    scenario: 'request',
    ops: QUICK ? 30_000 : 150_000,
    inFlight: 64,
    impls: ['brigade', 'brigade-zod'],
    floor: 0.8,
  },
  {
    // What tracing costs with an SDK registered in both processes (a CLIENT and a SERVER span per
    // request), against Brigade without one, which makes no span at all.
    name: 'request-reply, 64 in flight, traced (OpenTelemetry SDK, spans dropped)',
    scenario: 'request',
    ops: QUICK ? 30_000 : 150_000,
    inFlight: 64,
    impls: ['brigade', 'brigade-traced'],
  },
  {
    name: 'request-reply, 64 in flight, a middleware that only calls next',
    scenario: 'request',
    ops: QUICK ? 30_000 : 150_000,
    inFlight: 64,
    impls: ['brigade', 'brigade-middleware'],
    floor: 0.9,
  },
  {
    name: 'request-reply, 64 in flight, metrics on',
    scenario: 'request',
    ops: QUICK ? 30_000 : 150_000,
    inFlight: 64,
    impls: ['brigade', 'brigade-metrics'],
    floor: 0.85,
  },
  {
    name: 'events to a queue group',
    scenario: 'event',
    ops: QUICK ? 300_000 : 500_000,
    inFlight: 1,
    impls: ['brigade', 'raw'],
    floor: 0.9,
  },
  {
    name: 'events to a queue group, traced (OpenTelemetry SDK, spans dropped)',
    scenario: 'event',
    ops: QUICK ? 100_000 : 300_000,
    inFlight: 1,
    impls: ['brigade', 'brigade-traced'],
  },
  {
    name: 'events to a queue group, a middleware that only calls next',
    scenario: 'event',
    ops: QUICK ? 300_000 : 500_000,
    inFlight: 1,
    impls: ['brigade', 'brigade-middleware'],
    floor: 0.85,
  },
  {
    name: 'events to a queue group, metrics on',
    scenario: 'event',
    ops: QUICK ? 300_000 : 500_000,
    inFlight: 1,
    impls: ['brigade', 'brigade-metrics'],
    floor: 0.85,
  },
  {
    name: 'durable events, acked',
    scenario: 'durable',
    ops: QUICK ? 10_000 : 50_000,
    inFlight: 1,
    impls: ['brigade', 'raw'],
    floor: 1.5,
  },
].filter(
  (c, _i, all) =>
    // A case's whole name picks that case alone; else every case whose name contains the text.
    !args.only ||
    (all.some((other) => other.name === args.only)
      ? c.name === args.only
      : c.name.includes(args.only)),
) as Case[];

async function measure(c: Case, impl: Implementation): Promise<Measurement> {
  const expected = c.scenario === 'request' ? 0 : c.ops;
  return withHandler(impl, expected, async (url) => {
    const line = await firstLine(
      node('loadgen.js', [impl, c.scenario, url, String(c.ops), String(c.inFlight)]),
    );
    return JSON.parse(line) as Measurement;
  });
}

/**
 * The median of the per-repetition ratios, with their range. Both sides of a repetition run back
 * to back, so pairing them cancels the machine's slower drifts that a ratio of two medians keeps.
 */
function pairedRatio(
  brigade: readonly Measurement[],
  other: readonly Measurement[],
): { ratio: number; low: number; high: number } {
  const ratios = brigade.map((b, i) => b.perSecond / (other[i] as Measurement).perSecond);
  return { ratio: median(ratios), low: Math.min(...ratios), high: Math.max(...ratios) };
}

/** Idle RSS of a Brigade handler, then its RSS every 5 seconds under 64-in-flight requests. */
async function memory(seconds: number): Promise<{ idleMb: number; samples: number[] }> {
  return withHandler('brigade', 0, async (url, handler) => {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const idleMb = rssMb(handler.pid as number);
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssMb(handler.pid as number)), 5_000);
    await firstLine(node('loadgen.js', ['brigade', 'request', url, `t${seconds}`, '64']));
    clearInterval(sampler);
    return { idleMb, samples };
  });
}

/** The median of a CPU time per message of the runs, in µs. */
const cpuUs = (ms: readonly Measurement[], key: 'handlerCpuNs' | 'senderCpuNs'): string =>
  (median(ms.map((m) => m[key] ?? 0)) / 1_000).toFixed(2);

const fmt = (n: number): string => (n >= 1_000 ? `${(n / 1_000).toFixed(1)}k` : n.toFixed(0));

async function main(): Promise<void> {
  console.log(
    `Brigade benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
  );
  console.log(
    `${QUICK ? 'quick run' : 'full run'}, ${REPS} repetitions, medians (ratios: the median of per-repetition ratios, their range in brackets); every measurement has its own nats-server, handler process and load-generator process\n`,
  );
  const results = new Map<string, Measurement[]>();
  for (let rep = 1; rep <= REPS; rep++) {
    for (const c of CASES) {
      // Alternate which side goes first, so neither always runs on a warmer or cooler machine.
      const order = rep % 2 === 1 ? c.impls : [...c.impls].reverse();
      for (const impl of order) {
        const m = await measure(c, impl);
        const key = `${c.name}|${impl}`;
        results.set(key, [...(results.get(key) ?? []), m]);
        process.stderr.write(`  rep ${rep} ${c.name} ${impl}: ${fmt(m.perSecond)}/s\n`);
      }
    }
  }
  console.log('');
  const failures: string[] = [];
  for (const c of CASES) {
    const runs = (impl: Implementation) => results.get(`${c.name}|${impl}`) ?? [];
    console.log(`${c.name}`);
    for (const impl of c.impls) {
      const ms = runs(impl);
      const rate = median(ms.map((m) => m.perSecond));
      const detail =
        c.scenario === 'request'
          ? `  p50 ${median(ms.map((m) => m.p50 ?? 0)).toFixed(0)} µs  p99 ${median(ms.map((m) => m.p99 ?? 0)).toFixed(0)} µs`
          : `  CPU per message: handler ${cpuUs(ms, 'handlerCpuNs')} µs, sender ${cpuUs(ms, 'senderCpuNs')} µs`;
      let ratioText = '';
      // The checked ratio: a variant against plain Brigade, plain Brigade against raw `nats`.
      let checked: number | undefined;
      if (impl !== 'brigade' && isBrigade(impl)) {
        // A feature's cost: the variant against plain Brigade, per message.
        const { ratio, low, high } = pairedRatio(ms, runs('brigade'));
        const plain = median(runs('brigade').map((m) => m.perSecond));
        const costUs = (1 / rate - 1 / plain) * 1e6;
        ratioText = `  with/without = ${ratio.toFixed(2)}x (${low.toFixed(2)} to ${high.toFixed(2)}), about ${costUs.toFixed(2)} µs more per ${c.scenario === 'request' ? 'request' : 'message'}`;
        checked = ratio;
      } else if (impl !== 'brigade') {
        const { ratio, low, high } = pairedRatio(runs('brigade'), ms);
        ratioText = `  Brigade/${impl} = ${ratio.toFixed(2)}x (${low.toFixed(2)} to ${high.toFixed(2)})`;
        if (impl === 'raw') checked = ratio;
      }
      if (checked !== undefined && c.floor !== undefined) {
        ratioText += `  [floor ${c.floor}x]`;
        if (checked < c.floor)
          failures.push(`${c.name} (${impl}): ${checked.toFixed(2)}x, under its floor ${c.floor}x`);
      }
      console.log(
        `  ${impl.padEnd(18)} ${fmt(rate).padStart(7)} ${c.scenario === 'request' ? 'req/s' : 'msg/s'}${detail}${ratioText}`,
      );
    }
  }
  if (MEMORY_SECONDS > 0) {
    const m = await memory(MEMORY_SECONDS);
    const half = m.samples.slice(Math.floor(m.samples.length / 2));
    console.log(`\nmemory of a Brigade service: idle ${m.idleMb.toFixed(1)} MB RSS`);
    console.log(
      `under 64-in-flight requests for ${MEMORY_SECONDS}s, every 5s (MB): ${m.samples.map((x) => x.toFixed(1)).join(' ')}`,
    );
    console.log(
      `second half: ${Math.min(...half).toFixed(1)} to ${Math.max(...half).toFixed(1)} MB`,
    );
  }
  if (QUICK) {
    if (failures.length > 0) {
      console.log(`\nbench:check FAILED:\n  ${failures.join('\n  ')}`);
      process.exit(1);
    }
    console.log('\nbench:check passed: every checked ratio at or above its floor');
  }
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
});
