import { Command } from 'commander';
import { SCHEMA_METADATA, type ConnectionStatus } from '@brigade/core';
import {
  noAnswer,
  timeoutOf,
  withClient,
  withConnectionOptions,
  type ConnectionFlags,
} from '../connection';
import { discover, kindOf, type Endpoint, type ServiceResponse, type Verb } from '../discovery';
import { duration, print, table } from '../output';

/** The server the command asked through. */
type ServerInfo = ConnectionStatus['server'];

interface DiscoveryFlags extends ConnectionFlags {
  schemas?: boolean;
}

/**
 * A discovery command: asks `verb` of every service (or those named), prints the answers as JSON
 * with --json, else through `render`; exits 1 when nothing answered.
 */
function discoveryCommand(
  name: string,
  description: string,
  verb: Verb,
  render: (services: ServiceResponse[], flags: DiscoveryFlags, server: ServerInfo) => string,
): Command {
  return withConnectionOptions(new Command(name))
    .description(description)
    .argument('[name]', 'only services of this name')
    .option('--json', 'print JSON')
    .action(async (service: string | undefined, flags: DiscoveryFlags) => {
      const { services, server } = await withClient(flags, async (c) => ({
        services: await discover(c.bus, verb, service, timeoutOf(flags)),
        server: c.connection.server,
      }));
      if (flags.json) return print(JSON.stringify(services, null, 2));
      if (services.length === 0)
        throw noAnswer(
          flags,
          service ? `no service named '${service}' answered` : 'no service answered',
        );
      print(render(services, flags, server));
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

/**
 * Instances that describe themselves alike (name, version, description, metadata, endpoints) as
 * one block naming their ids; schemas named, or printed readably with --schemas.
 */
function describeServices(
  services: ServiceResponse[],
  flags: DiscoveryFlags,
  server: ServerInfo,
): string {
  const groups = new Map<string, ServiceResponse[]>();
  for (const s of services) {
    const key = JSON.stringify([s.name, s.version, s.description, s.metadata, s.endpoints]);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const connected = server
    ? `nats-server ${server.version} at ${server.url}, JetStream ${server.jetstream ? 'on' : 'off'}\n\n`
    : '';
  return (
    connected +
    [...groups.values()]
      .map((instances) => {
        const s = instances[0] as ServiceResponse;
        const metadata = Object.entries(s.metadata ?? {});
        const ids = instances.map((i) => i.id).join(', ');
        const count = instances.length === 1 ? 'instance' : `${instances.length} instances`;
        return [
          `${s.name} ${s.version}${s.description ? `  ${s.description}` : ''}`,
          `  ${count}: ${ids}`,
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
          ...schemaLines(s.endpoints ?? [], flags.schemas === true),
          '',
        ].join('\n');
      })
      .join('\n')
  );
}

const SCHEMA_LABELS: [string, string][] = [
  [SCHEMA_METADATA.request, 'request'],
  [SCHEMA_METADATA.response, 'response'],
  [SCHEMA_METADATA.payload, 'payload'],
];

/** The JSON Schemas endpoints publish in their metadata: named, or in full, indented. */
function schemaLines(endpoints: readonly Endpoint[], full: boolean): string[] {
  const found = endpoints.flatMap((e) =>
    SCHEMA_LABELS.flatMap(([key, label]) => {
      const text = e.metadata?.[key];
      return text ? [{ endpoint: e.name, label, text }] : [];
    }),
  );
  if (found.length === 0) return [];
  if (!full)
    return [
      `  schemas (JSON Schema, --schemas prints them): ${found.map((f) => `${f.endpoint} ${f.label}`).join(', ')}`,
    ];
  return [
    '  schemas (JSON Schema):',
    ...found.map(({ endpoint, label, text }) => {
      let shown = text;
      try {
        const { $schema: _, ...schema } = JSON.parse(text) as Record<string, unknown>;
        shown = JSON.stringify(schema, null, 2);
      } catch {
        // not JSON: shown as sent
      }
      return `    ${endpoint} ${label}:\n${shown.replace(/^/gm, '      ')}`;
    }),
  ];
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
      "show services' endpoints, subjects and queue groups (instances alike as one)",
      'INFO',
      describeServices,
    ).option('--schemas', 'print the JSON Schemas of requests, replies and events in full'),
    discoveryCommand(
      'stats',
      "show services' request, error and timing counters",
      'STATS',
      serviceCounters,
    ),
  ];
}
