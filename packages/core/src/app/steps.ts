import type { Middleware, OutgoingMiddleware } from '../common/middleware';
import { contextStep } from '../pipeline/context-scope';
import { decodeBody } from '../pipeline/decode-step';
import { failureLog } from '../pipeline/failure-log';
import { middlewareStep } from '../pipeline/middleware-chain';
import { schemaStep } from '../pipeline/schema-step';
import { statsLedger } from '../pipeline/stats-ledger';
import type { StepFactory } from '../pipeline/step';
import { metricsStep } from '../observability/metrics-step';
import { sendTelemetry, type Telemetry } from '../observability/telemetry';
import { tracingStep } from '../observability/tracing-step';

/**
 * The steps of every handler's pipeline, outermost first; each leaves itself out of a handler it
 * has nothing to do for. A new concern is a file of its own and a line here.
 */
export function handlerSteps(
  telemetry: Telemetry = {},
  middleware: readonly Middleware[] = [],
): StepFactory[] {
  return [
    statsLedger,
    failureLog,
    metricsStep(telemetry.metrics),
    tracingStep(telemetry.tracer),
    decodeBody,
    contextStep,
    middlewareStep(middleware),
    schemaStep,
  ];
}

/** The steps around everything a Bus sends, outermost first: telemetry's, then the user's. */
export function outgoingSteps(
  telemetry: Telemetry,
  outgoing: readonly OutgoingMiddleware[] = [],
): OutgoingMiddleware[] {
  const observe = sendTelemetry(telemetry);
  return observe ? [observe, ...outgoing] : [...outgoing];
}
