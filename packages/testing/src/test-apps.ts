import { Brigade, type BrigadeApp, type BrigadeOptions } from '@brigade/core';
import type { NatsCluster } from './nats-cluster';
import type { NatsServer } from './nats-server';

/** Starts an app against a test server or cluster, silent unless BRIGADE_LOG_LEVEL says otherwise. */
export function startApp(
  server: NatsServer | NatsCluster,
  options: BrigadeOptions,
): Promise<BrigadeApp> {
  return Brigade.start({
    ...options,
    nats: { servers: server.url, ...options.nats },
    logger: options.logger ?? { level: process.env['BRIGADE_LOG_LEVEL'] ?? 'silent' },
  });
}

/**
 * Collects what a test started and stops it in reverse order; call `run()` in `afterEach` so a
 * failed assertion leaks no server or app.
 */
export class Cleanup {
  private readonly tasks: (() => unknown)[] = [];

  /** Registers `value` for cleanup with `stop` and returns it. */
  add<T>(value: T, stop: (value: T) => unknown): T {
    this.tasks.push(() => stop(value));
    return value;
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (let task = this.tasks.pop(); task; task = this.tasks.pop()) {
      try {
        await task();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  }
}
