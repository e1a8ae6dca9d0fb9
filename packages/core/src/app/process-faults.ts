import { IncidentLog } from '../common/incident-log';
import type { Logger } from '../common/logger';
import { describeThrown, thrownKind } from '../common/thrown';

/**
 * What `Brigade.run` does about failures of the process's own code outside any handler (a
 * handler's failures are its message's): a promise rejected with no handler (a `setTimeout`
 * callback's `async` work, a forgotten `await`) is logged with where it could be traced and
 * the process keeps serving, since a lone rejection leaves nothing half-done; those lines are
 * bounded like a handler's. An exception nothing caught (a timer callback that throws) may have
 * left any state half-changed, so, as Node advises, the process does not go on as if nothing
 * happened: it logs it and stops (`fatal`), draining in-flight messages, and exits 1.
 * Returns the function that stops watching.
 */
export function watchProcessFaults(logger: Logger, fatal: (error: unknown) => void): () => void {
  const rejections = new IncidentLog(logger, 'this process');
  const onRejection = (reason: unknown): void => {
    const what = describeThrown(reason);
    rejections.add(
      thrownKind(reason),
      'error',
      { err: reason, thrown: what },
      `a promise was rejected and nothing handled it (outside any handler): ${what}; still serving`,
      what,
    );
  };
  let failed = false;
  const onException = (error: unknown): void => {
    const what = describeThrown(error);
    if (failed) {
      logger.error(
        { err: error, thrown: what },
        `another uncaught exception while stopping: ${what}`,
      );
      return;
    }
    failed = true;
    logger.fatal(
      { err: error, thrown: what },
      `an exception nothing caught (outside any handler): ${what}; stopping, then exiting 1`,
    );
    fatal(error);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    rejections.close();
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
