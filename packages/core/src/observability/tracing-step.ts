import type { Tracer } from '@opentelemetry/api';
import type { StepFactory } from '../pipeline/step';
import { HandlerTracing } from './tracing';

/**
 * Tracing as a step: a span per message, started before the body is decoded and active while the
 * middleware and the handler run; failures recorded on it; a core handler's span ends with the
 * handler, a durable one's once the message is settled. Absent when no tracer is registered.
 */
export function tracingStep(tracer: Tracer | undefined): StepFactory {
  return ({ definition }) => {
    if (!tracer) return undefined;
    const tracing = new HandlerTracing(tracer, definition);
    return {
      wrap: (next) => (payload, ctx) => {
        tracing.start(ctx);
        return tracing.run(ctx, () => next(payload, ctx));
      },
      finished(ctx, failure, error) {
        if (!ctx.span) return;
        if (failure) tracing.fail(ctx, failure, error);
        tracing.done(ctx);
      },
      settled(ctx, outcome) {
        if (ctx.span) tracing.settled(ctx, outcome);
      },
    };
  };
}
