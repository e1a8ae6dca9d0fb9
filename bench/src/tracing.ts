/**
 * For the `brigade-traced` runs: the OpenTelemetry Node tracer provider, registered as an
 * application registers it (batch span processor, context manager, W3C propagator), exporting
 * to an exporter that drops every span. What remains is what tracing costs Brigade and the SDK.
 */
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';

const discard: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => undefined,
};

export function registerTracing(): void {
  new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(discard)] }).register();
}
