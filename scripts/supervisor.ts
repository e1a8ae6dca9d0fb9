import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { ServiceProcess } from './topology';

export const REPO_ROOT = join(__dirname, '..');

const started = new Set<ChildProcess>();
const MAX_WARNINGS = 200;
// Services run in their own process groups: never leave one behind if the runner itself dies.
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/** One running service process. */
export class RunningProcess {
  readonly exited: Promise<number | null>;
  /** What it logged at warning level or above, its last 200 lines' messages. */
  readonly warnings: string[] = [];
  private lastErrorLine: string | undefined;
  private lastStderrLine: string | undefined;

  constructor(
    readonly label: string,
    readonly child: ChildProcess,
    /** Where its output goes: it has exited once this is written out too. */
    log?: WriteStream,
  ) {
    this.exited = new Promise((resolve) =>
      // 'close' comes after the last output: then the log is ended, and awaited, so a runner that
      // exits right after its services keeps their last lines.
      child.once('close', (code) => {
        if (!log) return resolve(code);
        log.end(() => resolve(code));
      }),
    );
    watchLines(child.stdout, (line) => this.note(line, false));
    watchLines(child.stderr, (line) => this.note(line, true));
  }

  /** Why it failed, as it said last: its last error log line, else its last line on stderr. */
  get lastError(): string | undefined {
    return this.lastErrorLine ?? this.lastStderrLine;
  }

  private note(line: string, stderr: boolean): void {
    try {
      const record = JSON.parse(line) as {
        level?: number;
        msg?: string;
        err?: { message?: string };
      };
      const level = record.level ?? 0;
      if (level >= 40 && this.warnings.push(record.msg ?? '') > MAX_WARNINGS) this.warnings.shift();
      if (level >= 50)
        this.lastErrorLine = [record.msg, record.err?.message].filter(Boolean).join(': ');
    } catch {
      if (stderr && line.trim()) this.lastStderrLine = line.trim();
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM (a graceful drain), then SIGKILL if it is still running after `graceMs`. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): Promise<number | null> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }
}

/**
 * Starts one replica of a service from the repository root, its output appended to
 * `<logDir>/<label>.log`, or written to it from empty when `fresh` (a run of its own).
 */
export function startProcess(
  service: ServiceProcess,
  label: string,
  env: Record<string, string>,
  logDir: string,
  fresh = false,
): RunningProcess {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(join(logDir, `${label}.log`), { flags: fresh ? 'w' : 'a' });
  const [command, ...args] = service.command as [string, ...string[]];
  const child = spawn(command === 'node' ? process.execPath : command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C in the terminal reaches the runner only, which then stops
    // each service once, gracefully (a second signal would make a service skip its drain).
    detached: true,
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  return new RunningProcess(label, child, log);
}

function watchLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let rest = '';
  stream?.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    lines.forEach(onLine);
  });
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
