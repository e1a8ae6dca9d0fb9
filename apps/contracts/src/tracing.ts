import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';

/** What `startTracing` started: flush and stop it once the app stopped. */
export interface Tracing {
  stop(): Promise<void>;
}

/**
 * Registers the OpenTelemetry Node SDK, exporting spans over OTLP/HTTP, when the standard
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) names a collector and
 * `OTEL_SDK_DISABLED` is not `true`; otherwise does nothing, and Brigade traces nothing. Call it
 * before `Brigade.run`: Brigade looks for a tracer provider when the app starts.
 */
export function startTracing(serviceName: string): Tracing {
  const env = process.env;
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (!endpoint || env['OTEL_SDK_DISABLED'] === 'true') return { stop: async () => undefined };
  const sdk = new NodeSDK({ serviceName, traceExporter: new OTLPTraceExporter() });
  sdk.start();
  return { stop: () => sdk.shutdown() };
}
