import { BrigadeApp } from './brigade-app';
import type { BrigadeOptions } from './brigade-options';
import { InvalidOptionError } from '../common/errors';
import { createLogger } from '../common/logger';
import type { OpsOptions } from './ops-server';
import { watchProcessFaults } from './process-faults';

/** How long `Brigade.run` keeps trying to reach NATS at start, unless `nats.connectRetryMs` says. */
const DEFAULT_CONNECT_RETRY_MS = 30_000;

/** Work of a process beside its services, such as an HTTP server. */
export interface RunHooks {
  /** Runs once the app started; a failure stops the app and exits 1. */
  started?(app: BrigadeApp): void | Promise<void>;
  /** Runs first on SIGINT/SIGTERM, before the app drains: stop taking outside work here. */
  stopping?(app: BrigadeApp): void | Promise<void>;
  /**
   * Runs once the app stopped, before the process exits: flush what is still buffered here (an
   * OpenTelemetry SDK's spans, say). A failure is logged; the exit code stays the stop's.
   */
  stopped?(app: BrigadeApp): void | Promise<void>;
}

/**
 * The entry point of a service process: starts the app, stops it gracefully on SIGINT or
 * SIGTERM (a second signal exits at once), and exits non-zero when the start fails or the
 * connection is lost for good. Failures of code outside any handler: see `watchProcessFaults`
 * (an unhandled rejection is logged and the process serves on; an uncaught exception stops it
 * gracefully and exits 1).
 */
export async function runApp(
  options: BrigadeOptions,
  hooks: RunHooks = {},
): Promise<BrigadeApp | undefined> {
  // Listening from the first moment: a signal during the start stops the app once it started
  // (a second one exits at once), instead of killing the process half-way.
  let app: BrigadeApp | undefined;
  let pending: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!app) {
      if (pending) process.exit(1);
      pending = signal;
      return;
    }
    stopOnSignal(app, signal, hooks);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let stopWatching: (() => void) | undefined;
  try {
    // Ready once the hooks' own work (an HTTP server, say) is up too, not before.
    app = await BrigadeApp.start(
      {
        ...options,
        // Started by an orchestrator, perhaps before its server: wait for it, boundedly.
        nats: { connectRetryMs: DEFAULT_CONNECT_RETRY_MS, ...options.nats },
        ops: options.ops ?? opsFromEnvironment(),
      },
      true,
    );
    const running = app;
    stopWatching = watchProcessFaults(app.logger, () => stopApp(running, hooks, 1));
    await startHook(app, hooks);
    app.markReady();
  } catch (err) {
    stopWatching?.();
    reportStartFailure(options, err);
    process.exit(1);
  }
  if (pending) stopOnSignal(app, pending, hooks);
  const started = app;
  started.closed().catch((err: unknown) => {
    started.logger.fatal({ err }, 'the NATS connection closed for good');
    process.exit(1);
  });
  return started;
}

/** A signal's graceful stop; a second signal exits at once. */
function stopOnSignal(app: BrigadeApp, signal: NodeJS.Signals, hooks: RunHooks): void {
  if (app.isStopping) {
    app.logger.warn(`${signal} again: exiting without waiting`);
    process.exit(1);
  }
  app.logger.info(`${signal} received`);
  stopApp(app, hooks, 0);
}

/** The graceful stop: the `stopping` hook, the drain, the `stopped` hook, then exit `code` (1 when the stop failed). */
function stopApp(app: BrigadeApp, hooks: RunHooks, code: number): void {
  if (app.isStopping) return;
  Promise.resolve()
    .then(() => hooks.stopping?.(app))
    .catch((err: unknown) => app.logger.error({ err }, 'stopping hook failed'))
    .then(() => app.stop())
    .then(
      () => code,
      (err: unknown) => {
        app.logger.error({ err }, 'stop failed');
        return 1;
      },
    )
    .then(async (exitCode) => {
      try {
        await hooks.stopped?.(app);
      } catch (err) {
        app.logger.error({ err }, 'stopped hook failed');
      }
      process.exit(exitCode);
    });
}

/** `BRIGADE_OPS_PORT` as ops settings: a port from 0 to 65535, or nothing when unset. */
function opsFromEnvironment(): OpsOptions | undefined {
  const text = process.env['BRIGADE_OPS_PORT'];
  if (text === undefined || text === '') return undefined;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535)
    throw new InvalidOptionError(
      `BRIGADE_OPS_PORT is '${text}': use a port number from 0 to 65535`,
    );
  return { port };
}

async function startHook(app: BrigadeApp, hooks: RunHooks): Promise<void> {
  try {
    await hooks.started?.(app);
  } catch (err) {
    await app.stop().catch(() => undefined);
    throw err;
  }
}

/** Logs why the start failed; on stderr when the logger itself is what was wrong. */
function reportStartFailure(options: BrigadeOptions, err: unknown): void {
  const message = `failed to start: ${(err as Error).message}`;
  let logger;
  try {
    logger = createLogger(options.logger, 'brigade');
  } catch {
    process.stderr.write(`${message}\n`);
    return;
  }
  logger.fatal({ err }, message);
}
