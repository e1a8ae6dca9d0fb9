import type { StepFactory } from '../pipeline/step';
import type { AppMetrics } from './metrics';

/**
 * Metrics as a step: each message's processing time observed into the handler's
 * `messaging_process_duration_seconds` series (one per error type). Every message is timed then.
 * Absent when the app has no metrics.
 */
export function metricsStep(metrics: AppMetrics | undefined): StepFactory {
  return ({ definition, serviceName }) => {
    if (!metrics) return undefined;
    const series = metrics.handler(definition, serviceName);
    return {
      timesEvery: true,
      finished: (ctx, failure) => series.observe(ctx.startedAt, failure),
    };
  };
}
