import type { BrigadeClient } from '@brigade/core';
import { atLeast, Features } from '@brigade/core/internal';

/** A stream as the dashboard shows it. */
export interface StreamView {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly messages: number;
  readonly bytes: number;
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly consumers: readonly ConsumerView[];
}

/** A durable consumer, with its lag. */
export interface ConsumerView {
  readonly name: string;
  readonly filter?: string;
  /** Messages in the stream it has not been given yet. */
  readonly pending: number;
  /** Messages given out and not acknowledged yet. */
  readonly ackPending: number;
  /** Messages given out more than once and not acknowledged yet. */
  readonly redelivered: number;
  /** Pull requests waiting for messages: its handlers, idle. */
  readonly waiting: number;
  readonly maxDeliver?: number;
  /** Until when the consumer is paused (RFC 3339), while it is (nats-server 2.11 or later). */
  readonly pausedUntil?: string;
}

/** Where a consumer stands after a pause or a resume. */
export interface PauseState {
  readonly paused: boolean;
  /** RFC 3339, while paused. */
  readonly until?: string;
}

/** The JetStream API's answer, with its error when it refused. */
interface ApiReply {
  readonly error?: { readonly code: number; readonly description: string };
}

interface StreamListReply extends ApiReply {
  readonly total: number;
  readonly streams?: readonly {
    readonly config: { readonly name: string; readonly subjects?: readonly string[] };
    readonly state: {
      readonly messages: number;
      readonly bytes: number;
      readonly first_seq: number;
      readonly last_seq: number;
    };
  }[];
}

interface ConsumerListReply extends ApiReply {
  readonly total: number;
  readonly consumers?: readonly {
    readonly name: string;
    readonly num_pending: number;
    readonly num_ack_pending: number;
    readonly num_redelivered: number;
    readonly num_waiting: number;
    readonly paused?: boolean;
    readonly config: {
      readonly filter_subject?: string;
      readonly max_deliver?: number;
      readonly pause_until?: string;
    };
  }[];
}

interface PauseReply extends ApiReply {
  readonly paused?: boolean;
  readonly pause_until?: string;
}

/** The server pages lists by 256; a dashboard shows at most this many streams or consumers. */
const MAX_LISTED = 1_024;

/**
 * Reads streams and consumers through the JetStream API's subjects (`$JS.API.*`), as the `nats`
 * CLI does: plain requests on the bus, no client-side JetStream state.
 */
export class JetStreamApi {
  constructor(
    private readonly client: BrigadeClient,
    private readonly timeoutMs: number,
  ) {}

  /** Every stream with its consumers, by name. */
  async streams(): Promise<StreamView[]> {
    const listed = await this.paged<
      StreamListReply,
      NonNullable<StreamListReply['streams']>[number]
    >('$JS.API.STREAM.LIST', (reply) => reply.streams ?? []);
    const streams = await Promise.all(
      listed.map(async ({ config, state }) => ({
        name: config.name,
        subjects: config.subjects ?? [],
        messages: state.messages,
        bytes: state.bytes,
        firstSequence: state.first_seq,
        lastSequence: state.last_seq,
        consumers: await this.consumers(config.name),
      })),
    );
    return streams.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Pauses a consumer on the server until `until` (no instance gets its messages meanwhile), or
   * resumes it now without one. Refused before anything is sent on a server older than 2.11,
   * which would not answer at all.
   */
  async pause(stream: string, consumer: string, until?: Date): Promise<PauseState> {
    const { since } = Features.consumerPause;
    const server = this.client.connection.server;
    if (server && !atLeast(server.version, since))
      throw new Error(
        `${until ? 'pausing' : 'resuming'} a consumer needs nats-server ${since} or later; connected to ${server.version} at ${server.url}`,
      );
    const subject = `$JS.API.CONSUMER.PAUSE.${stream}.${consumer}`;
    const reply = await this.client.bus.request<PauseReply>(
      subject,
      until ? { pause_until: until.toISOString() } : {},
      { timeout: this.timeoutMs },
    );
    if (reply.error)
      throw new Error(`${subject}: ${reply.error.description} (${reply.error.code})`);
    return {
      paused: reply.paused === true,
      ...(reply.paused && reply.pause_until ? { until: reply.pause_until } : {}),
    };
  }

  private async consumers(stream: string): Promise<ConsumerView[]> {
    const listed = await this.paged<
      ConsumerListReply,
      NonNullable<ConsumerListReply['consumers']>[number]
    >(`$JS.API.CONSUMER.LIST.${stream}`, (reply) => reply.consumers ?? []);
    return listed
      .map((c) => ({
        name: c.name,
        ...(c.config.filter_subject ? { filter: c.config.filter_subject } : {}),
        pending: c.num_pending,
        ackPending: c.num_ack_pending,
        redelivered: c.num_redelivered,
        waiting: c.num_waiting,
        ...(c.config.max_deliver && c.config.max_deliver > 0
          ? { maxDeliver: c.config.max_deliver }
          : {}),
        ...(c.paused && c.config.pause_until ? { pausedUntil: c.config.pause_until } : {}),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every page of a JetStream list, up to `MAX_LISTED` items. */
  private async paged<R extends ApiReply & { total: number }, T>(
    subject: string,
    items: (reply: R) => readonly T[],
  ): Promise<T[]> {
    const all: T[] = [];
    for (;;) {
      const reply = await this.client.bus.request<R>(
        subject,
        { offset: all.length },
        { timeout: this.timeoutMs },
      );
      if (reply.error)
        throw new Error(`${subject}: ${reply.error.description} (${reply.error.code})`);
      const page = items(reply);
      all.push(...page);
      if (page.length === 0 || all.length >= reply.total || all.length >= MAX_LISTED) return all;
    }
  }
}
