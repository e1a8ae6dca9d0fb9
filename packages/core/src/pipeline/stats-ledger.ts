import { UNTIMED } from './handler-context';
import type { StepFactory } from './step';

/**
 * The stats ledger: counts every message that ran, its processing time (when it was timed) and
 * its failure into the handler's counters, which the Service API's `STATS` reports; and the
 * durable messages dead-lettered.
 */
export const statsLedger: StepFactory = ({ stats }) => ({
  finished(ctx, failure) {
    stats.numRequests++;
    stats.ran++;
    if (ctx.startedAt !== UNTIMED) {
      stats.timed++;
      stats.timedNs += Math.round((performance.now() - ctx.startedAt) * 1e6);
    }
    if (failure) stats.failed(failure);
  },
  settled(_ctx, outcome) {
    if (outcome.kind === 'dead-letter') stats.deadLettered++;
  },
});
