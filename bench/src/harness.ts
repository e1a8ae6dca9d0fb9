/** The benchmark's processes: a nats-server, handler processes and a load generator, each its own. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NatsServer } from '@brigade/testing';
import { isBrigade, type Implementation } from './workload';

/** BENCH_PROFILE=<dir> writes a CPU profile of every handler and load generator there. */
const PROFILE_DIR = process.env['BENCH_PROFILE'];

/** Runs `script` (in bench/dist) as a node process of its own. */
export function node(
  script: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  const profile = PROFILE_DIR
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${PROFILE_DIR}`,
        `--cpu-prof-name=${script}.${argv[0] ?? ''}.${Date.now()}.cpuprofile`,
      ]
    : [];
  return spawn(process.execPath, [...profile, join(__dirname, script), ...argv], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
}

/** The first line the process prints. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const end = out.indexOf('\n');
      if (end >= 0) resolve(out.slice(0, end));
    });
    child.once('exit', (code) =>
      reject(
        new Error(`${String(child.spawnargs[1])} exited with ${String(code)} before answering`),
      ),
    );
  });
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Stops a child process and waits for it. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(PROFILE_DIR ? 'SIGINT' : 'SIGKILL'); // SIGINT lets a profiled handler write its profile
  await exited;
}

/**
 * A fresh nats-server and `instances` handler processes of `impl` on it (sharing its queue
 * groups), ready, for `work`; everything stopped after.
 */
export async function withHandler<T>(
  impl: Implementation,
  expected: number,
  work: (url: string, handler: ChildProcess) => Promise<T>,
  instances = 1,
): Promise<T> {
  const server = await NatsServer.start({ jetstream: true });
  const handlers = Array.from({ length: instances }, () =>
    node('handler.js', [isBrigade(impl) ? impl : 'raw', server.url, String(expected)]),
  );
  try {
    for (const handler of handlers)
      if ((await firstLine(handler)) !== 'ready') throw new Error('the handler did not start');
    return await work(server.url, handlers[0] as ChildProcess);
  } finally {
    await Promise.all(handlers.map(stop));
    await server.stop();
  }
}
