import {
  type Bus,
  type EndpointInfo,
  type EndpointStats,
  type InfoResponse,
  type ServiceIdentity,
  type StatsResponse,
} from '@brigade/core';
import { STALL_MS, UsageError } from './connection';

export type Verb = 'PING' | 'INFO' | 'STATS';

/**
 * An endpoint as any ADR-32 service (Brigade or not) may describe it: the core's wire shapes,
 * with the fields another implementation may leave out (or send as null) optional.
 */
export type Endpoint = Pick<EndpointInfo, 'name' | 'subject'> &
  Partial<Omit<EndpointInfo & EndpointStats, 'name' | 'subject' | 'metadata'>> & {
    readonly metadata?: EndpointInfo['metadata'] | null;
  };

/** A PING, INFO or STATS answer, read the same lenient way. */
export type ServiceResponse = Pick<ServiceIdentity, 'name' | 'id' | 'version'> &
  Partial<Pick<InfoResponse, 'description'> & Pick<StatsResponse, 'started'>> & {
    readonly metadata?: ServiceIdentity['metadata'] | null;
    readonly endpoints?: readonly Endpoint[];
  };

const NAME = /^[A-Za-z0-9_-]+$/;

/**
 * Asks every ADR-32 service (Brigade or not) and gathers the answers within `waitMs`, stopping
 * once no answer came for `stallMs`.
 */
export async function discover(
  bus: Bus,
  verb: Verb,
  name: string | undefined,
  waitMs: number,
  stallMs = STALL_MS,
): Promise<ServiceResponse[]> {
  if (name !== undefined && !NAME.test(name))
    throw new UsageError(`'${name}' is not a service name (letters, digits, _ and -)`);
  const subject = name ? `$SRV.${verb}.${name}` : `$SRV.${verb}`;
  // Every instance answers at once: stop when the answers stop, not at the end of the timeout.
  const replies = await bus.requestMany<ServiceResponse>(subject, undefined, {
    maxWait: waitMs,
    stall: stallMs,
  });
  return replies
    .flatMap((r) => (r.ok ? [r.value] : []))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

export function kindOf(endpoint: Endpoint): string {
  const metadata = endpoint.metadata ?? {};
  if (metadata['brigade.stream'])
    return `durable event (${metadata['brigade.stream']}/${metadata['brigade.consumer'] ?? '?'})`;
  return metadata['brigade.kind'] === 'event' ? 'event' : 'endpoint';
}
