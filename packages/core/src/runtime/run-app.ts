import { BrigadeApp } from './brigade-app';
import type { BrigadeOptions } from './brigade-options';
import { createLogger } from './logger';

/**
 * The entry point of a service process: starts the app, stops it gracefully on SIGINT or
 * SIGTERM (a second signal exits at once), and exits non-zero when the start fails or the
 * connection is lost for good.
 */
export async function runApp(options: BrigadeOptions): Promise<BrigadeApp | undefined> {
  let app: BrigadeApp;
  try {
    app = await BrigadeApp.start(options);
  } catch (err) {
    createLogger(options.logger, 'brigade').fatal(
      { err },
      `failed to start: ${(err as Error).message}`,
    );
    process.exit(1);
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    if (app.isStopping) {
      app.logger.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    app.logger.info(`${signal} received`);
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  app.closed().catch((err: unknown) => {
    app.logger.fatal({ err }, 'the NATS connection closed for good');
    process.exit(1);
  });
  return app;
}
