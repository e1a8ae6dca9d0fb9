/**
 * npm run bench:instructions     machine instructions per event received, per request answered and
 *                                per request sent, Brigade and raw `nats`
 *
 * What receiving one small event or answering one small request costs the handler's process, and
 * what sending one request costs the requester's, counted rather than timed: this machine's
 * timings of the same code vary by a fifth from run to run, instruction counts by well under one
 * percent. Each count runs under valgrind's callgrind twice, with fewer and more messages (feed.js
 * handing frames to the connection's parser; loadgen.js sending requests), and the difference
 * divided by the difference in messages is the cost of one, start-up and JIT warm-up cancelled
 * out. V8 compiles on its main thread here (`--no-concurrent-recompilation`), so that the counts
 * do not depend on when a background compile lands, and its hash and random seeds are fixed, so
 * that hash tables are laid out alike in every run. Run it on an otherwise idle machine. For
 * comparing changes of the per-message path; the throughput that users see is `npm run bench`'s.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NatsServer } from '@brigade/testing';
import { withHandler } from './harness';

const run = promisify(execFile);
const SMALL = 60_000;
const LARGE = 140_000;
/** Requests sent, for the requester's count: each takes about four times an event's instructions. */
const SMALL_SENT = 20_000;
const LARGE_SENT = 60_000;

/** Instructions that running `script` (in bench/dist) with `args` took, start to exit. */
async function instructions(script: string, args: readonly string[]): Promise<number> {
  const { stderr } = await run(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      '--no-concurrent-recompilation',
      '--hash-seed=1',
      '--random-seed=1',
      join(__dirname, script),
      ...args,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const collected = /Collected : (\d+)/.exec(stderr)?.[1];
  if (collected === undefined) throw new Error(`callgrind reported no count:\n${stderr}`);
  return Number(collected);
}

/** One event received, or one request answered: feed.js, both counts at once (one per core). */
async function perReceived(impl: string, url: string, scenario: 'event' | 'request') {
  const [small, large] = await Promise.all(
    [SMALL, LARGE].map((n) => instructions('feed.js', [impl, url, String(n), scenario])),
  );
  return ((large as number) - (small as number)) / (LARGE - SMALL);
}

/**
 * One request sent and its reply taken, 64 in flight: loadgen.js against a raw echo handler in a
 * process of its own, the two counts one after the other (the handler keeps up with a requester
 * under valgrind, so the replies come back the same way each time).
 */
async function perSent(impl: string): Promise<number> {
  return withHandler('raw', 0, async (url) => {
    const count = (n: number) =>
      instructions('loadgen.js', [impl, 'request', url, String(n), '64']);
    const small = await count(SMALL_SENT);
    const large = await count(LARGE_SENT);
    return (large - small) / (LARGE_SENT - SMALL_SENT);
  });
}

function report(what: string, brigade: number, raw: number, rawName = 'raw'): void {
  const difference = Math.round(brigade - raw);
  console.log(`instructions per ${what} (~100-byte JSON, parsed)`);
  console.log(`  ${'brigade'.padEnd(20)} ${brigade.toFixed(0).padStart(7)}`);
  console.log(`  ${rawName.padEnd(20)} ${raw.toFixed(0).padStart(7)}`);
  console.log(
    difference >= 0
      ? `  Brigade's own part: ${difference}`
      : `  Brigade takes ${-difference} fewer than ${rawName}`,
  );
}

async function main(): Promise<void> {
  try {
    await run('valgrind', ['--version']);
  } catch {
    throw new Error('valgrind is needed (apt-get install -y valgrind)');
  }
  const server = await NatsServer.start();
  try {
    for (const scenario of ['event', 'request'] as const) {
      const brigade = await perReceived('brigade', server.url, scenario);
      const raw = await perReceived('raw', server.url, scenario);
      report(scenario === 'event' ? 'event received' : 'request answered', brigade, raw);
    }
  } finally {
    await server.stop();
  }
  // Raw's requester with its default options spends most of its instructions on a stack per request.
  const brigade = await perSent('brigade');
  const raw = await perSent('raw-noasynctraces');
  report(
    'request sent, 64 in flight (the bench load generator)',
    brigade,
    raw,
    'raw (noAsyncTraces)',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
