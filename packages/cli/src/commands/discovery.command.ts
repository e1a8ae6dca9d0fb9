import { Command } from 'commander';
import { SCHEMA_METADATA } from '@brigade/core';
import {
  NotFound,
  timeoutOf,
  withClient,
  withConnectionOptions,
  type ConnectionFlags,
} from '../connection';
import { discover, kindOf, type Endpoint, type ServiceResponse, type Verb } from '../discovery';
import { duration, print, table } from '../output';

/**
 * A discovery command: asks `verb` of every service (or those named), prints the answers as JSON
 * with --json, else through `render`; exits 1 when nothing answered.
 */
function discoveryCommand(
  name: string,
  description: string,
  verb: Verb,
  render: (services: ServiceResponse[]) => string,
): Command {
  return withConnectionOptions(new Command(name))
    .description(description)
    .argument('[name]', 'only services of this name')
    .option('--json', 'print JSON')
    .action(async (service: string | undefined, flags: ConnectionFlags) => {
      const services = await withClient(flags, (c) =>
        discover(c.bus, verb, service, timeoutOf(flags)),
      );
      if (flags.json) return print(JSON.stringify(services, null, 2));
      if (services.length === 0)
        throw new NotFound(
          service ? `no service named '${service}' answered` : 'no service answered',
        );
      print(render(services));
    });
}

function listServices(services: ServiceResponse[]): string {
  return table(
    ['NAME', 'VERSION', 'ID', 'ENDPOINTS', 'DESCRIPTION'],
    services.map((s) => [
      s.name,
      s.version,
      s.id,
      String(s.endpoints?.length ?? 0),
      s.description ?? '',
    ]),
  );
}

function describeServices(services: ServiceResponse[]): string {
  return services
    .map((s) => {
      const metadata = Object.entries(s.metadata ?? {});
      return [
        `${s.name} ${s.version}  id ${s.id}${s.description ? `  ${s.description}` : ''}`,
        ...(metadata.length > 0
          ? [`  metadata: ${metadata.map(([k, v]) => `${k}=${v}`).join(', ')}`]
          : []),
        table(
          ['  ENDPOINT', 'SUBJECT', 'QUEUE GROUP', 'KIND'],
          (s.endpoints ?? []).map((e) => [
            `  ${e.name}`,
            e.subject,
            e.queue_group || '(none)',
            kindOf(e),
          ]),
        ),
        ...schemaLines(s.endpoints ?? []),
        '',
      ].join('\n');
    })
    .join('\n');
}

const SCHEMA_LABELS: [string, string][] = [
  [SCHEMA_METADATA.request, 'request'],
  [SCHEMA_METADATA.response, 'response'],
  [SCHEMA_METADATA.payload, 'payload'],
];

/** The JSON Schemas endpoints publish in their metadata, one line each. */
function schemaLines(endpoints: readonly Endpoint[]): string[] {
  const lines = endpoints.flatMap((e) =>
    SCHEMA_LABELS.flatMap(([key, label]) => {
      const text = e.metadata?.[key];
      if (!text) return [];
      let shown = text;
      try {
        const { $schema: _, ...schema } = JSON.parse(text) as Record<string, unknown>;
        shown = JSON.stringify(schema);
      } catch {
        // not JSON: shown as sent
      }
      return [`    ${e.name} ${label}: ${shown}`];
    }),
  );
  return lines.length > 0 ? ['  schemas (JSON Schema):', ...lines] : [];
}

function serviceCounters(services: ServiceResponse[]): string {
  const rows = services.flatMap((s) =>
    (s.endpoints ?? []).map((e) => [
      s.name,
      s.id,
      e.name,
      String(e.num_requests ?? 0),
      String(e.num_errors ?? 0),
      duration(e.average_processing_time ?? 0),
      e.last_error ?? '',
    ]),
  );
  return table(['SERVICE', 'ID', 'ENDPOINT', 'REQUESTS', 'ERRORS', 'AVERAGE', 'LAST ERROR'], rows);
}

export function discoveryCommands(): Command[] {
  return [
    discoveryCommand(
      'ls',
      'list running services (any NATS Service API service)',
      'INFO',
      listServices,
    ),
    discoveryCommand(
      'info',
      "show services' endpoints, subjects and queue groups",
      'INFO',
      describeServices,
    ),
    discoveryCommand(
      'stats',
      "show services' request, error and timing counters",
      'STATS',
      serviceCounters,
    ),
  ];
}
