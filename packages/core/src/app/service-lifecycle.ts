import type { ServiceDefinition } from '../discovery/handler-definition';
import { StartError } from '../common/errors';
import type { Logger } from '../common/logger';

/** A service that prepares itself before its handlers take messages (open a bucket, warm a cache). */
export interface OnStart {
  /** Awaited before the service's subscriptions go live; a failure fails `start()`. */
  onStart(): void | Promise<void>;
}

/** A service that cleans up after its handlers are done. */
export interface OnStop {
  /** Awaited after the app's handlers drained, before the connection closes; failures are logged. */
  onStop(): void | Promise<void>;
}

/** Runs the services' `onStart` in order at start, and `onStop` of those started, in reverse, at stop. */
export class ServiceLifecycle {
  private started: { definition: ServiceDefinition; instance: object }[] = [];

  constructor(
    private readonly instances: ReadonlyMap<ServiceDefinition, object>,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    for (const [definition, instance] of this.instances) {
      const hook = (instance as Partial<OnStart>).onStart;
      if (typeof hook === 'function') {
        try {
          await hook.call(instance);
        } catch (cause) {
          throw new StartError(
            `${definition.target.name} (service '${definition.name}') failed in onStart: ${(cause as Error)?.message ?? String(cause)}`,
            { cause },
          );
        }
      }
      this.started.push({ definition, instance });
    }
  }

  async stop(): Promise<void> {
    const started = this.started.reverse();
    this.started = [];
    for (const { definition, instance } of started) {
      const hook = (instance as Partial<OnStop>).onStop;
      if (typeof hook !== 'function') continue;
      try {
        await hook.call(instance);
      } catch (err) {
        this.logger.error(
          { err, service: definition.name },
          `service '${definition.name}' failed in onStop`,
        );
      }
    }
  }
}
