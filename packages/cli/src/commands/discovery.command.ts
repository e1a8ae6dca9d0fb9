import { Command } from 'commander';
import type { Bus } from '@brigade/core';
import {
  timeoutOf,
  UsageError,
  withClient,
  withConnectionOptions,
  type ConnectionFlags,
} from '../connection';
import { duration, print, table } from '../output';

type Verb = 'PING' | 'INFO' | 'STATS';

interface Endpoint {
  name: string;
  subject: string;
  queue_group?: string;
  metadata?: Record<string, string> | null;
  num_requests?: number;
  num_errors?: number;
  last_error?: string;
  average_processing_time?: number;
}

interface ServiceResponse {
  name: string;
  id: string;
  version: string;
  description?: string;
  metadata?: Record<string, string> | null;
  endpoints?: Endpoint[];
}

const NAME = /^[A-Za-z0-9_-]+$/;

/** Asks every ADR-32 service (Brigade or not) and gathers the answers within the timeout. */
async function discover(
  bus: Bus,
  verb: Verb,
  name: string | undefined,
  waitMs: number,
): Promise<ServiceResponse[]> {
  if (name !== undefined && !NAME.test(name))
    throw new UsageError(`'${name}' is not a service name (letters, digits, _ and -)`);
  const subject = name ? `$SRV.${verb}.${name}` : `$SRV.${verb}`;
  const replies = await bus.requestMany<ServiceResponse>(subject, undefined, { maxWait: waitMs });
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

function nothingFound(name: string | undefined): never {
  throw new NotFound(name ? `no service named '${name}' answered` : 'no service answered');
}

/** Nothing answered: exit status 1, with the reason. */
export class NotFound extends Error {}

export function discoveryCommands(): Command[] {
  const ls = withConnectionOptions(new Command('ls'))
    .description('list running services (any NATS Service API service)')
    .argument('[name]', 'only services of this name')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, flags: ConnectionFlags) => {
      const services = await withClient(flags, (c) =>
        discover(c.bus, 'INFO', name, timeoutOf(flags)),
      );
      if (flags.json) return print(JSON.stringify(services, null, 2));
      if (services.length === 0) nothingFound(name);
      print(
        table(
          ['NAME', 'VERSION', 'ID', 'ENDPOINTS', 'DESCRIPTION'],
          services.map((s) => [
            s.name,
            s.version,
            s.id,
            String(s.endpoints?.length ?? 0),
            s.description ?? '',
          ]),
        ),
      );
    });

  const info = withConnectionOptions(new Command('info'))
    .description("show services' endpoints, subjects and queue groups")
    .argument('[name]', 'only services of this name')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, flags: ConnectionFlags) => {
      const services = await withClient(flags, (c) =>
        discover(c.bus, 'INFO', name, timeoutOf(flags)),
      );
      if (flags.json) return print(JSON.stringify(services, null, 2));
      if (services.length === 0) nothingFound(name);
      for (const s of services) {
        print(`${s.name} ${s.version}  id ${s.id}${s.description ? `  ${s.description}` : ''}`);
        const metadata = Object.entries(s.metadata ?? {});
        if (metadata.length > 0)
          print(`  metadata: ${metadata.map(([k, v]) => `${k}=${v}`).join(', ')}`);
        print(
          table(
            ['  ENDPOINT', 'SUBJECT', 'QUEUE GROUP', 'KIND'],
            (s.endpoints ?? []).map((e) => [
              `  ${e.name}`,
              e.subject,
              e.queue_group || '(none)',
              kindOf(e),
            ]),
          ),
        );
        print('');
      }
    });

  const stats = withConnectionOptions(new Command('stats'))
    .description("show services' request, error and timing counters")
    .argument('[name]', 'only services of this name')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, flags: ConnectionFlags) => {
      const services = await withClient(flags, (c) =>
        discover(c.bus, 'STATS', name, timeoutOf(flags)),
      );
      if (flags.json) return print(JSON.stringify(services, null, 2));
      if (services.length === 0) nothingFound(name);
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
      print(
        table(['SERVICE', 'ID', 'ENDPOINT', 'REQUESTS', 'ERRORS', 'AVERAGE', 'LAST ERROR'], rows),
      );
    });

  return [ls, info, stats];
}
