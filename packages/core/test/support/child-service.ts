import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface ChildService {
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
}

/** Runs `fixtures/<name>` as its own node process (through ts-node), against `natsUrl`. */
export function startChildService(
  name: string,
  natsUrl: string,
  env: Record<string, string> = {},
): ChildService {
  const child = spawn(
    process.execPath,
    [
      '--conditions=brigade-source',
      '-r',
      'ts-node/register',
      join(__dirname, '..', 'fixtures', name),
    ],
    {
      env: { ...process.env, NATS_URL: natsUrl, TS_NODE_TRANSPILE_ONLY: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output: () => output, exited };
}
