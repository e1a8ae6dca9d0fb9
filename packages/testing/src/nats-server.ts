import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer } from './nats-server-binary';

export interface NatsServerOptions {
  /** Start with JetStream, storing in `storeDir` (default: a fresh temporary folder). */
  jetstream?: boolean;
  /** JetStream store folder; kept on `stop()` when given, removed when temporary. */
  storeDir?: string;
  /** Require this token from clients. */
  token?: string;
  /** Listen on this port instead of a random free one. */
  port?: number;
  /** Further nats-server arguments. */
  args?: readonly string[];
  /** How long to wait for "Server is ready", in ms. Default: 10,000. */
  startTimeoutMs?: number;
  /**
   * Run it in a process group of its own, so that a terminal's Ctrl-C reaches only its owner,
   * which stops it after what depends on it (a runner that drains services first). Default: false
   * (a Ctrl-C of the test run ends it with the run).
   */
  ownProcessGroup?: boolean;
  /**
   * The nats-server program to run. Default: `findNatsServer()` (`$NATS_SERVER_BIN`, then
   * `$NATS_SERVER_SUITE`, then PATH). A spec that needs a given line names it:
   * `natsServerOfSuite('sid')`.
   */
  binary?: string;
}

const LISTENING = /Listening for client connections on [^\s]+:(\d+)/;
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * A real nats-server on a loopback port, owned by the test that started it: `stop()` ends this
 * process and nothing else. Never the machine's shared server.
 */
export class NatsServer {
  private child: ChildProcess | undefined;
  private ownsStore: boolean;

  private constructor(
    private readonly options: NatsServerOptions,
    readonly storeDir: string | undefined,
    private portNumber: number,
  ) {
    this.ownsStore = options.jetstream === true && options.storeDir === undefined;
  }

  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const server = NatsServer.prepare(options);
    await server.launch();
    return server;
  }

  /** A server set up but not running yet: `restart()` starts it. */
  static prepare(options: NatsServerOptions = {}): NatsServer {
    const storeDir = options.jetstream
      ? (options.storeDir ?? mkdtempSync(join(tmpdir(), 'brigade-nats-')))
      : undefined;
    return new NatsServer(options, storeDir, options.port ?? -1);
  }

  get port(): number {
    return this.portNumber;
  }

  /** `nats://127.0.0.1:<port>` */
  get url(): string {
    return `nats://127.0.0.1:${this.portNumber}`;
  }

  get isRunning(): boolean {
    return this.child !== undefined;
  }

  /** Stops the server gracefully (SIGTERM) and removes its temporary store. */
  async stop(): Promise<void> {
    await this.halt('SIGTERM');
    if (this.ownsStore && this.storeDir) {
      rmSync(this.storeDir, { recursive: true, force: true });
      this.ownsStore = false;
    }
  }

  /** Kills the server abruptly (SIGKILL), keeping its store for a restart. */
  async kill(): Promise<void> {
    await this.halt('SIGKILL');
  }

  /** Stops the server (keeping its store) and starts it again on the same port; or starts it. */
  async restart(): Promise<void> {
    await this.halt('SIGTERM');
    await this.launch();
  }

  private async launch(): Promise<void> {
    const args = ['-a', '127.0.0.1', '-p', String(this.portNumber)];
    if (this.storeDir) args.push('-js', '-sd', this.storeDir);
    if (this.options.token) args.push('--auth', this.options.token);
    args.push(...(this.options.args ?? []));
    const child = spawn(this.options.binary ?? findNatsServer(), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.options.ownProcessGroup === true,
    });
    running.add(child);
    this.child = child;
    this.portNumber = await waitUntilReady(child, this.options.startTimeoutMs ?? 10_000);
  }

  private async halt(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
    }
    running.delete(child);
  }
}

function waitUntilReady(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    let port: number | undefined;
    const fail = (reason: string): void => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`nats-server did not start: ${reason}\n${output.slice(-2000)}`));
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      port ??= Number(LISTENING.exec(output)?.[1]) || undefined;
      if (port !== undefined && output.includes('Server is ready')) {
        cleanup();
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(port);
      }
    };
    const onExit = (code: number | null): void => fail(`it exited with code ${String(code)}`);
    const onError = (err: Error): void => fail(err.message);
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}
