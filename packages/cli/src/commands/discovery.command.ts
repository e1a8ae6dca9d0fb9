import { Command } from 'commander';
import {
  SCHEMA_METADATA,
  type Bus,
  type EndpointInfo,
  type EndpointStats,
  type InfoResponse,
  type ServiceIdentity,
} from '@brigade/core';
import {
  NotFound,
  STALL_MS,
  timeoutOf,
  UsageError,
  withClient,
  withConnectionOptions,
  type ConnectionFlags,
} from '../connection';
import { duration, print, table } from '../output';

type Verb = 'PING' | 'INFO' | 'STATS';

/**
 * An endpoint as any ADR-32 service (Brigade or not) may describe it: the core's wire shapes,
 * with the fields another implementation may leave out (or send as null) optional.
 */
type Endpoint = Pick<EndpointInfo, 'name' | 'subject'> &
  Partial<Omit<EndpointInfo & EndpointStats, 'name' | 'subject' | 'metadata'>> & {
    readonly metadata?: EndpointInfo['metadata'] | null;
  };

/** A PING, INFO or STATS answer, read the same lenient way. */
type ServiceResponse = Pick<ServiceIdentity, 'name' | 'id' | 'version'> &
  Partial<Pick<InfoResponse, 'description'>> & {
    readonly metadata?: ServiceIdentity['metadata'] | null;
    readonly endpoints?: readonly Endpoint[];
  };

const NAME = /^[A-Za-z0-9_-]+$/;

/** Asks every ADR-32 service (Brigade or not) and gathers the answers within the timeout. */
export async function discover(
  bus: Bus,
  verb: Verb,
  name: string | undefined,
  waitMs: number,
): Promise<ServiceResponse[]> {
  if (name !== undefined && !NAME.test(name))
    throw new UsageError(`'${name}' is not a service name (letters, digits, _ and -)`);
  const subject = name ? `$SRV.${verb}.${name}` : `$SRV.${verb}`;
  // Every instance answers at once: stop when the answers stop, not at the end of the timeout.
  const replies = await bus.requestMany<ServiceResponse>(subject, undefined, {
    maxWait: waitMs,
    stall: STALL_MS,
  });
  return replies
    .flatMap((r) => (r.ok ? [r.value] : []))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

function kindOf(endpoint: Endpoint): string {
  const metadata = endpoint.metadata ?? {};
  if (metadata['brigade.stream'])
    return `durable event (${metadata['brigade.stream']}/${metadata['brigade.consumer'] ?? '?'})`;
  return metadata['brigade.kind'] === 'event' ? 'event' : 'endpoint';
}

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
