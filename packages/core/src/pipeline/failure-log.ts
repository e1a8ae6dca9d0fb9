import { clip } from '../common/clip';
import { describeThrown, thrownKind } from '../common/thrown';
import { failureOf, UnwatchedFailure } from './middleware-chain';
import type { StepFactory } from './step';

/**
 * The failure log: each failure a message ended with goes to the handler's bounded log. An
 * unexpected throw, or a failure a middleware did not look at, with its stack and where it came
 * from; a 5xx the handler chose as a warning; a 4xx (an answer: 404, 409, 422...) as what was
 * said, without a stack.
 */
export const failureLog: StepFactory = (handler) => ({
  finished(ctx, failure, error) {
    if (failure === undefined) return;
    const { incidents } = handler;
    const unwatched = error instanceof UnwatchedFailure;
    const thrown = failureOf(error);
    const status = failure.status;
    if (failure !== thrown || unwatched) {
      const what = describeThrown(thrown);
      const behind = unwatched
        ? ' behind a middleware that called next() without returning or awaiting it'
        : '';
      incidents.add(
        `${thrownKind(thrown)}${unwatched ? ' (unwatched)' : ''}`,
        'error',
        { ...ctx.logFields(), err: thrown, thrown: what, status },
        `${handler.where()} failed${behind}: ${what}`,
        what,
      );
    } else if (status >= 500) {
      incidents.add(
        `${status}`,
        'warn',
        { ...ctx.logFields(), err: thrown, status },
        `${handler.where()} answered ${status}`,
        `${status} ${clip(failure.message)}`,
      );
    } else {
      incidents.add(
        `${status}`,
        'info',
        { ...ctx.logFields(), status, code: failure.code, reason: failure.message },
        `${handler.where()} answered ${status}`,
        `${status} ${clip(failure.message)}`,
      );
    }
  },
});
