/**
 * npm run bench:instructions     machine instructions per event received, Brigade and raw `nats`
 *
 * What receiving one small event costs the handler's process, counted rather than timed: this
 * machine's timings of the same code vary by a fifth from run to run, instruction counts by well
 * under one percent. feed.js runs under valgrind's callgrind twice per implementation, with
 * `SMALL` and `LARGE` events through the connection's parser; the difference divided by the
 * difference in events is the cost of one, start-up and JIT warm-up cancelled out. V8 compiles on
 * its main thread here (`--no-concurrent-recompilation`), so that the counts do not depend on
 * when a background compile lands, and its hash and random seeds are fixed, so that hash tables
 * are laid out alike in every run. Run it on an otherwise idle machine. For comparing changes of
 * the per-message path; the throughput that users see is `npm run bench`'s.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NatsServer } from '@brigade/testing';

const run = promisify(execFile);
const SMALL = 60_000;
const LARGE = 140_000;

async function instructions(impl: string, url: string, events: number): Promise<number> {
  const { stderr } = await run(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      '--no-concurrent-recompilation',
      '--hash-seed=1',
      '--random-seed=1',
      join(__dirname, 'feed.js'),
      impl,
      url,
      String(events),
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const collected = /Collected : (\d+)/.exec(stderr)?.[1];
  if (collected === undefined) throw new Error(`callgrind reported no count:\n${stderr}`);
  return Number(collected);
}

async function perEvent(impl: string, url: string): Promise<number> {
  // Both counts at once: one per core.
  const [small, large] = await Promise.all([
    instructions(impl, url, SMALL),
    instructions(impl, url, LARGE),
  ]);
  return (large - small) / (LARGE - SMALL);
}

async function main(): Promise<void> {
  try {
    await run('valgrind', ['--version']);
  } catch {
    throw new Error('valgrind is needed (apt-get install -y valgrind)');
  }
  const server = await NatsServer.start();
  try {
    const brigade = await perEvent('brigade', server.url);
    const raw = await perEvent('raw', server.url);
    console.log('instructions per event received (~100-byte JSON, parsed)');
    console.log(`  brigade  ${brigade.toFixed(0).padStart(6)}`);
    console.log(`  raw      ${raw.toFixed(0).padStart(6)}`);
    console.log(`  Brigade's own part: ${(brigade - raw).toFixed(0)} instructions per event`);
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
