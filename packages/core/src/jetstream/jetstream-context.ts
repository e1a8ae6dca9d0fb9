import type { JetStreamClient, JetStreamManager, NatsConnection, NatsError } from 'nats';
import { JetStreamError, NoRespondersError, NoStreamError, NotFoundError } from '../common/errors';
import { jsonCodec } from '../transport/json.codec';
import type { Logger } from '../common/logger';
import type { NatsTransport } from '../transport/nats-transport';
import type { HeaderInit } from '../transport/wire-message';
import type { PublishAck } from './publish-ack';
import { Features, ServerCapabilities } from './server-features';

/** What a stream answers to a publish. */
interface PubAckResponse {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code?: number; description?: string };
}

/** The JetStream client and manager of one connection. */
export class JetStreamContext {
  private constructor(
    private readonly transport: NatsTransport,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    /** What the server connected to offers: its version and JetStream API level. */
    readonly capabilities: ServerCapabilities,
  ) {}

  get nc(): NatsConnection {
    return this.transport.connection;
  }

  /** False while the connection is lost and being restored, or closed. */
  get connected(): boolean {
    return this.transport.state === 'connected';
  }

  /**
   * Fails with an instruction when the server runs without JetStream. Reads the server's JetStream
   * API level once (`$JS.API.INFO`), for the features that need a newer server.
   */
  static async open(transport: NatsTransport): Promise<JetStreamContext> {
    const nc = transport.connection;
    try {
      // The manager's own check would ask $JS.API.INFO too: asked once, here.
      const jsm = await nc.jetstreamManager({ checkAPI: false });
      const info = (await jsm.getAccountInfo()) as { api?: { level?: unknown } };
      const level = typeof info.api?.level === 'number' ? info.api.level : 0;
      const server = transport.status.server;
      const capabilities = new ServerCapabilities(
        server?.version ?? 'unknown',
        level,
        server?.url ?? 'an unknown address',
      );
      return new JetStreamContext(transport, nc.jetstream(), jsm, capabilities);
    } catch (cause) {
      const code = (cause as Partial<NatsError>).code;
      const reason =
        code === '503'
          ? 'JetStream is not enabled on the server: start nats-server with -js (and a store directory, -sd)'
          : `JetStream is unavailable: ${(cause as Error).message}`;
      throw new JetStreamError(reason, { cause });
    }
  }

  /**
   * Publishes through JetStream and waits for the stream's acknowledgement: a plain publish with
   * a reply inbox and `Nats-Msg-Id`, answered by the stream with a PubAck. It goes through
   * Brigade's request multiplexer, which costs no timer and no error object per publish.
   */
  async publish(
    subject: string,
    data: Uint8Array,
    headers: HeaderInit | undefined,
    msgId: string,
    timeoutMs: number,
  ): Promise<PublishAck> {
    let reply;
    try {
      reply = await this.transport.request(
        subject,
        data,
        { ...headers, 'Nats-Msg-Id': msgId },
        timeoutMs,
      );
    } catch (cause) {
      if (cause instanceof NoRespondersError) throw new NoStreamError(subject, { cause });
      throw cause;
    }
    const ack = jsonCodec.decode(reply.data) as PubAckResponse | undefined;
    if (ack?.error || typeof ack?.stream !== 'string') {
      const reason = ack?.error?.description ?? 'the server answered without an acknowledgement';
      throw new JetStreamError(`durable publish to '${subject}' failed: ${reason}`);
    }
    return { stream: ack.stream, sequence: ack.seq ?? 0, duplicate: ack.duplicate === true };
  }

  /**
   * Pauses a consumer on the server until `until` (no delivery to any instance meanwhile), or
   * resumes it at once without one (nats-server 2.11 or later). Returns when it is paused until,
   * if it is.
   */
  async pauseConsumer(stream: string, consumer: string, until?: Date): Promise<Date | undefined> {
    this.capabilities.require(Features.consumerPause, `pausing consumer '${consumer}'`);
    const body = until ? { pause_until: until.toISOString() } : {};
    const reply = await this.transport.request(
      `$JS.API.CONSUMER.PAUSE.${stream}.${consumer}`,
      jsonCodec.encode(body),
      undefined,
      PAUSE_TIMEOUT_MS,
    );
    const answer = jsonCodec.decode(reply.data) as {
      paused?: boolean;
      pause_until?: string;
      error?: { code?: number; description?: string };
    };
    if (answer.error) {
      const reason = answer.error.description ?? `error ${String(answer.error.code)}`;
      if (answer.error.code === 404)
        throw new NotFoundError(`no consumer '${consumer}' on stream '${stream}': ${reason}`);
      throw new JetStreamError(`cannot pause consumer '${consumer}' of '${stream}': ${reason}`);
    }
    return answer.paused && answer.pause_until ? new Date(answer.pause_until) : undefined;
  }

  /** The server's counts for a durable consumer (one JetStream API request). */
  async consumerState(stream: string, consumer: string): Promise<ConsumerState> {
    const info = await this.jsm.consumers.info(stream, consumer);
    return {
      pending: info.num_pending,
      ackPending: info.num_ack_pending,
      redelivered: info.num_redelivered,
    };
  }
}

/** Where a durable consumer stands, as the server counts it. */
export interface ConsumerState {
  /** Messages in the stream the consumer has not been sent yet (its lag). */
  readonly pending: number;
  /** Messages sent and not yet acknowledged. */
  readonly ackPending: number;
  /** Messages sent more than once and not yet acknowledged. */
  readonly redelivered: number;
}

/** True for the JetStream API's "not found" answers (stream, consumer or message). */
export function isNotFound(err: unknown): boolean {
  const api = (err as { api_error?: { code?: number } }).api_error;
  return api?.code === 404 || /not found/i.test((err as Error).message ?? '');
}

/** Client error codes that mean the server, or JetStream on it, did not answer in time or at all. */
const UNAVAILABLE_CODES = new Set([
  'TIMEOUT',
  '503',
  'CONNECTION_CLOSED',
  'CONNECTION_DRAINING',
  'DISCONNECT',
]);

/**
 * True when `err` says JetStream cannot answer now (no leader during a failover, a timeout, no
 * responders, a closed connection), as opposed to refusing what was asked.
 */
export function isUnavailable(err: unknown): boolean {
  const { code, api_error: api } = err as Partial<NatsError> & { api_error?: { code?: number } };
  return api?.code === 503 || (typeof code === 'string' && UNAVAILABLE_CODES.has(code));
}

/** How long an idempotent set-up step keeps trying while JetStream cannot answer. */
const PATIENCE_MS = 30_000;

/**
 * Waits until a replicated stream just created has elected its leader: until then a publish to
 * it finds no responders. Throws a `JetStreamError` when none is elected within the patience.
 */
export async function untilLeader(jsm: JetStreamManager, stream: string): Promise<void> {
  const giveUpAt = Date.now() + PATIENCE_MS;
  for (;;) {
    const info = await jsm.streams.info(stream).catch((err: unknown) => {
      if (isUnavailable(err)) return undefined;
      throw err;
    });
    if (info?.cluster?.leader) return;
    if (Date.now() > giveUpAt)
      throw new JetStreamError(
        `stream '${stream}' has elected no leader in ${PATIENCE_MS} ms: are enough of the cluster's servers up?`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Runs an idempotent set-up step (provisioning, opening a bucket) again, with growing pauses,
 * while it fails because JetStream is unavailable (time-outs and 503s while a cluster elects its
 * leaders or is busy creating replicated streams); any other failure, or one that outlasts the
 * patience, is thrown.
 */
export async function whileUnavailable<T>(
  what: string,
  step: () => Promise<T>,
  logger: Logger,
): Promise<T> {
  const giveUpAt = Date.now() + PATIENCE_MS;
  for (let pause = 250; ; pause = Math.min(pause * 2, 4_000)) {
    try {
      return await step();
    } catch (err) {
      if (!isPassing((err as Error).cause ?? err) || Date.now() + pause > giveUpAt) throw err;
      logger.warn(
        { err: (err as Error).message },
        `${what}: JetStream is not answering; trying again`,
      );
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

const PAUSE_TIMEOUT_MS = 5_000;

/** JetStream's error code for "no suitable peers for placement" (a 400). */
const NO_PEERS_FOR_PLACEMENT = 10005;

/**
 * A fault that passes by itself: a time-out, JetStream saying it is temporarily unavailable, or a
 * cluster that has not yet seen enough of its peers to place a replicated stream (while the nodes
 * of a fresh cluster find each other). Not "no responders", which on a lone server means JetStream
 * is not enabled at all. A placement that can never succeed (more replicas than servers) is thrown
 * once the patience runs out, with the server's own words.
 */
function isPassing(err: unknown): boolean {
  const { code, api_error: api } = err as Partial<NatsError> & {
    api_error?: { code?: number; err_code?: number };
  };
  return api?.code === 503 || api?.err_code === NO_PEERS_FOR_PLACEMENT || code === 'TIMEOUT';
}
