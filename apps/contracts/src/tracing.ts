import { lookup } from 'node:dns/promises';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';

/** What `startTracing` started: flush and stop it once the app stopped. */
export interface Tracing {
  stop(): Promise<void>;
}

const OFF: Tracing = { stop: async () => undefined };

/**
 * Registers the OpenTelemetry Node SDK, exporting spans over OTLP/HTTP, when the standard
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) names a collector whose host can be
 * found and `OTEL_SDK_DISABLED` is not `true`; otherwise does nothing, and Brigade traces
 * nothing. `docker-compose.yml` names the bundled Jaeger by default, which is on the network
 * only under the profile `observability`: without it, the services say once that tracing is off
 * instead of exporting into the void. Await it before `Brigade.run`: Brigade looks for a tracer
 * provider when the app starts.
 */
export async function startTracing(serviceName: string): Promise<Tracing> {
  const env = process.env;
  const endpoint = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  if (!endpoint || env['OTEL_SDK_DISABLED'] === 'true') return OFF;
  const host = hostOf(endpoint);
  if (host !== undefined) {
    try {
      await lookup(host);
    } catch {
      process.stderr.write(
        `${serviceName}: tracing off: the trace collector's host '${host}' (${endpoint}) is not on this network\n`,
      );
      return OFF;
    }
  }
  const sdk = new NodeSDK({ serviceName, traceExporter: new OTLPTraceExporter() });
  sdk.start();
  return { stop: () => sdk.shutdown() };
}

/** The host of an endpoint URL, without IPv6 brackets; `undefined` when it is no URL. */
function hostOf(endpoint: string): string | undefined {
  try {
    return new URL(endpoint).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined;
  }
}
