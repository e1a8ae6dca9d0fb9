import { ServerTooOldError } from '../common/errors';

/**
 * A JetStream feature of newer nats-servers, with the oldest version that has it and the
 * JetStream API level (ADR-44) that version reports: 0 before 2.11, then one more with each minor
 * version (1 for 2.11, 2 for 2.12, 4 for 2.14).
 */
export interface ServerFeature {
  readonly name: string;
  /** `major.minor`. */
  readonly since: string;
  readonly apiLevel: number;
}

export const Features = {
  /** `allow_msg_ttl` on a stream, `Nats-TTL` on a message (ADR-43). */
  messageTtl: { name: 'per-message TTL', since: '2.11', apiLevel: 1 },
  /** `subject_delete_marker_ttl` on a stream (ADR-43). */
  subjectDeleteMarkers: { name: 'subject delete markers', since: '2.11', apiLevel: 1 },
  /** `$JS.API.CONSUMER.PAUSE`, `pause_until` on a consumer (ADR-44). */
  consumerPause: { name: 'consumer pause', since: '2.11', apiLevel: 1 },
  /** `allow_msg_schedules` on a stream, `Nats-Schedule: @at …` on a message (ADR-51). */
  messageSchedules: { name: 'message schedules', since: '2.12', apiLevel: 2 },
  /** `@every` and cron schedules, with `Nats-Schedule-Time-Zone` (ADR-51). */
  recurringSchedules: { name: 'recurring schedules', since: '2.14', apiLevel: 4 },
} as const satisfies Record<string, ServerFeature>;

/** The server an app or client is connected to, as far as JetStream features go. */
export class ServerCapabilities {
  constructor(
    /** As the server reports it: `2.10.27`. */
    readonly version: string,
    /** `api.level` of `$JS.API.INFO`; 0 where the server reports none (before 2.11). */
    readonly apiLevel: number,
    /** Where it is, for messages: the address connected to. */
    readonly server: string,
  ) {}

  /** True when the server is at least the feature's version and reports its API level. */
  supports(feature: ServerFeature): boolean {
    return atLeast(this.version, feature.since) && this.apiLevel >= feature.apiLevel;
  }

  /** Throws `ServerTooOldError` naming `what` when the server lacks `feature`. */
  require(feature: ServerFeature, what: string): void {
    if (this.supports(feature)) return;
    throw new ServerTooOldError(what, feature.since, this.version, this.lack(feature, what));
  }

  /** What `what` needs and what the server is: `… needs nats-server 2.12 or later …; connected to …`. */
  lack(feature: ServerFeature, what: string): string {
    const level = feature.apiLevel > 0 ? ` (JetStream API level ${feature.apiLevel})` : '';
    const reported = this.apiLevel > 0 ? `, API level ${this.apiLevel},` : '';
    return `${what} needs nats-server ${feature.since} or later${level}; connected to ${this.version}${reported} at ${this.server}`;
  }
}

/** Whether `version` (`2.10.27`, `2.11.0-RC.1`) is at least `since` (`2.11`). */
export function atLeast(version: string, since: string): boolean {
  const have = numbers(version);
  const need = numbers(since);
  for (let i = 0; i < need.length; i++) {
    const a = have[i] ?? 0;
    const b = need[i] as number;
    if (a !== b) return a > b;
  }
  return true;
}

function numbers(version: string): number[] {
  return (/^v?(\d+(?:\.\d+)*)/.exec(version)?.[1] ?? '0').split('.').map(Number);
}
