/**
 * The NATS Service API (ADR-32) responses, as they go on the wire: declared once, answered by
 * Brigade's responder and read by the `brigade` CLI. Durations are integer nanoseconds.
 */

/** What every response carries. */
export interface ServiceIdentity {
  readonly name: string;
  /** Unique per service instance. */
  readonly id: string;
  /** SemVer. */
  readonly version: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface PingResponse extends ServiceIdentity {
  readonly type: 'io.nats.micro.v1.ping_response';
}

export interface EndpointInfo {
  readonly name: string;
  readonly subject: string;
  /** `""` for no queue group (broadcast and durable handlers). */
  readonly queue_group: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface InfoResponse extends ServiceIdentity {
  readonly type: 'io.nats.micro.v1.info_response';
  readonly description: string;
  readonly endpoints: readonly EndpointInfo[];
}

export interface EndpointStats {
  readonly name: string;
  readonly subject: string;
  readonly queue_group: string;
  readonly num_requests: number;
  readonly num_errors: number;
  /** `""` when none. */
  readonly last_error: string;
  readonly processing_time: number;
  readonly average_processing_time: number;
  /** Brigade's core event handlers: `{ dropped }`. */
  readonly data?: unknown;
}

export interface StatsResponse extends ServiceIdentity {
  readonly type: 'io.nats.micro.v1.stats_response';
  /** RFC 3339, UTC. */
  readonly started: string;
  readonly endpoints: readonly EndpointStats[];
}

export type ServiceApiResponse = PingResponse | InfoResponse | StatsResponse;
