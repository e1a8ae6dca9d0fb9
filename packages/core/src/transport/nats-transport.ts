import { readFileSync } from 'node:fs';
import {
  connect,
  credsAuthenticator,
  Events,
  nkeyAuthenticator,
  type ConnectionOptions,
  type NatsConnection,
  type NatsError,
} from 'nats';
import { ConnectionError, InvalidOptionError, NotRunningError } from '../common/errors';
import type { Logger } from '../common/logger';
import { IncidentLog } from '../common/incident-log';
import type { ConnectionSettings } from './connection-settings';
import type { ConnectionState, ConnectionStatus } from './connection-status';
import { isNoResponders, toMsgHdrs } from './header-codec';
import { RequestMux } from './request-mux';
import { describeConnectFailure } from './connect-failure';
import { readFramesOf } from './frame-reader';
import { encodeCommandsOf } from './command-encoding';
import { FAST_PATH_SWITCH, fastPathsOn } from './nats-internals';
import { withCredentialsOf, withEnvironment } from './server-urls';
import type { HeaderInit, TransportSubscription, WireMessage } from './wire-message';

/** The one place Brigade talks to the `nats` client (JetStream aside). */
/**
 * The `nats` client version Brigade's fast paths (its own frame reader, protocol lines and header
 * blocks, which use the client's private fields) were tested against, differentially, by the
 * specs: package.json pins it exactly.
 */
export const TESTED_NATS_VERSION = '2.29.3';

let warnedOfClient = false;

/**
 * Says once per process, at warn level, when the installed `nats` client is not the tested one
 * or lacks the internals the fast paths use: only speed is at stake (the client's own parser and
 * encoding then do the work), but an operator should know.
 */
function warnOfUntestedClient(logger: Logger, internalsFound: boolean): void {
  if (warnedOfClient) return;
  if (!fastPathsOn) {
    warnedOfClient = true;
    logger.info(
      `${FAST_PATH_SWITCH}=off: the nats client's own parser, encoding and headers do all the work (slower; nothing else changes)`,
    );
    return;
  }
  const installed = installedNatsVersion();
  const warning = untestedClientWarning(installed, internalsFound);
  if (warning === undefined) return;
  warnedOfClient = true;
  logger.warn({ installed, tested: TESTED_NATS_VERSION, internalsFound }, warning);
}

/** What to say of the installed client, or `undefined` when it is the tested one, whole. */
export function untestedClientWarning(
  installed: string,
  internalsFound: boolean,
): string | undefined {
  if (!internalsFound)
    return `the nats client ${installed} lacks the internals Brigade's fast paths use: the client's own parser and encoding are used instead (slower; nothing else is lost)`;
  if (installed !== TESTED_NATS_VERSION)
    return `the nats client is ${installed}, not the ${TESTED_NATS_VERSION} Brigade's fast paths were tested with: they are used, untested on this version`;
  return undefined;
}

function installedNatsVersion(): string {
  try {
    const manifest = readFileSync(require.resolve('nats/package.json'), 'utf8');
    return (JSON.parse(manifest) as { version: string }).version;
  } catch {
    return 'of an unknown version';
  }
}

export class NatsTransport {
  private readonly mux: RequestMux;
  private reconnecting = false;
  /** Times the connection was restored after a loss. */
  reconnects = 0;

  private constructor(
    readonly connection: NatsConnection,
    private readonly logger: Logger,
  ) {
    // Faster paths through the client's internals; a client without them keeps its own.
    const reads = readFramesOf(connection);
    const encodes = encodeCommandsOf(connection);
    warnOfUntestedClient(logger, reads && encodes);
    this.mux = new RequestMux(connection);
    void this.watchStatus();
    void connection.closed().then((err) => {
      this.mux.rejectAll(
        new NotRunningError('the NATS connection closed', { cause: err ?? undefined }),
      );
    });
  }

  /** Connects with `explicit` settings, the environment filling what they leave unset. */
  static async connect(
    explicit: ConnectionSettings,
    defaultName: string,
    logger: Logger,
  ): Promise<NatsTransport> {
    const settings = withCredentialsOf(withEnvironment(explicit));
    const servers = settings.servers as string[];
    const patience = settings.connectRetryMs ?? 0;
    if (!Number.isFinite(patience) || patience < 0)
      throw new InvalidOptionError(
        `nats.connectRetryMs must be a number of milliseconds of at least 0, got ${String(patience)}`,
      );
    const giveUpAt = Date.now() + patience;
    for (let attempt = 1, pause = FIRST_RETRY_PAUSE_MS; ; attempt++) {
      try {
        const nc = await connect(toConnectionOptions(settings, servers, defaultName));
        logger.info({ server: nc.getServer(), attempt }, 'connected to NATS');
        return new NatsTransport(nc, logger);
      } catch (cause) {
        const reason = await describeConnectFailure(cause, settings);
        const where = `NATS at ${servers.join(', ')}`;
        const remaining = giveUpAt - Date.now();
        if (!isNotReachableYet(cause, reason) || remaining <= 0) {
          const tried = attempt > 1 ? ` (after ${attempt} tries in ${patience} ms)` : '';
          throw new ConnectionError(`cannot connect to ${where}: ${reason}${tried}`, { cause });
        }
        // The last try comes at the end of the patience, not a pause past it.
        const wait = Math.min(pause, remaining);
        logger.warn(
          { attempt, retryInMs: wait, reason },
          `${where} not reachable yet; trying again (for up to ${patience} ms in all)`,
        );
        await new Promise((resolve) => setTimeout(resolve, wait));
        pause = Math.min(pause * 2, MAX_RETRY_PAUSE_MS);
      }
    }
  }

  subscribe(
    subject: string,
    queue: string | undefined,
    onMessage: (msg: WireMessage) => void,
  ): TransportSubscription {
    // Per message, so bounded: the first of a kind in full, the rest summed up. Made at the first,
    // so that a subscription without trouble (an inbox per request) allocates nothing for it.
    let log: IncidentLog | undefined;
    const incidents = (): IncidentLog =>
      (log ??= new IncidentLog(this.logger, `the subscription to '${subject}'`));
    const sub = this.connection.subscribe(subject, {
      queue,
      callback: (err, msg) => {
        if (err) {
          incidents().add('error', 'error', { err, subject }, 'subscription error', String(err));
          return;
        }
        // A throw here would reach the client's protocol parser and leave the connection deaf.
        try {
          onMessage(msg);
        } catch (failure) {
          incidents().add(
            'skipped',
            'error',
            { err: failure, subject },
            'a message could not be taken; skipped',
            String(failure),
          );
        }
      },
    });
    return {
      // A drain waits for the server to confirm: while it is away, nothing more can arrive.
      drain: () =>
        this.reconnecting
          ? Promise.resolve(sub.unsubscribe())
          : this.withinPatience(sub.drain(), `draining '${subject}'`).then((done) => {
              if (!done) sub.unsubscribe();
            }),
      unsubscribe: () => sub.unsubscribe(),
    };
  }

  /**
   * Resolves true when `work` settles within `DRAIN_PATIENCE_MS`, false (logged) when the server
   * does not answer in that time: a stop during an outage must not wait for the server forever.
   */
  private async withinPatience(work: Promise<unknown>, what: string): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), DRAIN_PATIENCE_MS);
    });
    const settled = work.then(
      () => true,
      () => true,
    );
    const done = await Promise.race([settled, late]);
    clearTimeout(timer);
    if (!done)
      this.logger.warn(
        { patienceMs: DRAIN_PATIENCE_MS },
        `${what}: NATS did not answer; going on without it`,
      );
    return done;
  }

  publish(subject: string, data: Uint8Array, headers?: HeaderInit, reply?: string): void {
    if (headers === undefined && reply === undefined) this.connection.publish(subject, data);
    else this.connection.publish(subject, data, { headers: toMsgHdrs(headers), reply });
  }

  request(
    subject: string,
    data: Uint8Array,
    headers: HeaderInit | undefined,
    timeoutMs: number,
  ): Promise<WireMessage> {
    const hdrs = toMsgHdrs(headers);
    return this.mux.request(
      subject,
      (reply) => this.connection.publish(subject, data, { headers: hdrs, reply }),
      timeoutMs,
    );
  }

  /**
   * Sends one request and collects every reply that arrives within `maxWaitMs` (or up to `max`);
   * with `stallMs`, it stops as well once that long passed after a reply without another.
   */
  async requestMany(
    subject: string,
    data: Uint8Array,
    headers: HeaderInit | undefined,
    maxWaitMs: number,
    max: number,
    stallMs?: number,
  ): Promise<WireMessage[]> {
    const inbox = `${this.mux.inboxPrefix}.many.${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
    const replies: WireMessage[] = [];
    const sub = this.connection.subscribe(inbox);
    const timer = setTimeout(() => sub.unsubscribe(), maxWaitMs);
    let stall: NodeJS.Timeout | undefined;
    try {
      this.connection.publish(subject, data, { headers: toMsgHdrs(headers), reply: inbox });
      for await (const msg of sub) {
        if (isNoResponders(msg)) break;
        replies.push(msg);
        if (replies.length >= max) break;
        if (stallMs !== undefined) {
          clearTimeout(stall);
          stall = setTimeout(() => sub.unsubscribe(), stallMs);
        }
      }
    } finally {
      clearTimeout(timer);
      clearTimeout(stall);
      sub.unsubscribe();
    }
    return replies;
  }

  flush(): Promise<void> {
    return this.connection.flush();
  }

  get isClosed(): boolean {
    return this.connection.isClosed();
  }

  /** Drains every remaining subscription, flushes pending publishes and closes. */
  async close(): Promise<void> {
    if (this.connection.isClosed()) return;
    if (this.reconnecting) {
      // Draining needs the server; waiting for it would keep the process alive for as long as
      // the outage lasts (reconnect attempts are unlimited by default).
      this.logger.warn('closing while disconnected from NATS: what was not sent yet is dropped');
      await this.connection.close();
      return;
    }
    const drained = this.connection.drain().then(
      () => true,
      (err: unknown) => {
        this.logger.warn({ err }, 'draining the NATS connection failed; closing it');
        return false;
      },
    );
    const inTime = await this.withinPatience(drained, 'draining the connection');
    if (!inTime || !(await drained)) await this.connection.close();
  }

  closed(): Promise<void | Error> {
    return this.connection.closed();
  }

  /** `connected`, `reconnecting` (the connection was lost and is being restored) or `closed`. */
  get state(): ConnectionState {
    if (this.connection.isClosed()) return 'closed';
    return this.reconnecting ? 'reconnecting' : 'connected';
  }

  /** The state, and what the server said of itself when this connection last reached it. */
  get status(): ConnectionStatus {
    const info = this.connection.info;
    return {
      state: this.state,
      reconnects: this.reconnects,
      server: info && {
        id: info.server_id,
        name: info.server_name,
        version: info.version,
        jetstream: info.jetstream === true,
        url: this.connection.getServer(),
      },
    };
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.connection.status()) {
      switch (status.type) {
        case Events.Disconnect:
          this.reconnecting = true;
          this.logger.warn({ server: status.data }, 'disconnected from NATS; reconnecting');
          break;
        case Events.Reconnect:
          this.reconnecting = false;
          this.reconnects++;
          this.logger.info({ server: status.data }, 'reconnected to NATS; subscriptions restored');
          break;
        case Events.LDM:
          this.logger.warn({ server: status.data }, 'NATS server entering lame duck mode');
          break;
        case Events.Error:
          this.logger.error({ err: status.data }, 'NATS reported an error');
          break;
        default:
          break;
      }
    }
  }
}

/** How long a drain (of a subscription or the connection) waits for the server. */
const DRAIN_PATIENCE_MS = 5_000;
const FIRST_RETRY_PAUSE_MS = 250;
const MAX_RETRY_PAUSE_MS = 2_000;

/**
 * A first connection that may succeed if tried again: nothing listens yet, the server's name
 * does not resolve yet (a container starting), or the connect timed out. Not refused
 * credentials, nor a TLS failure (`reason` says TLS when that is what a time-out was).
 */
function isNotReachableYet(cause: unknown, reason: string): boolean {
  if (reason.startsWith('TLS failed')) return false;
  const { code, message } = cause as Partial<NatsError>;
  if (code === 'CONNECTION_REFUSED' || code === 'CONNECTION_TIMEOUT' || code === 'TIMEOUT')
    return true;
  return /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH/.test(message ?? '');
}

function toConnectionOptions(
  settings: ConnectionSettings,
  servers: string[],
  defaultName: string,
): ConnectionOptions {
  const options: ConnectionOptions = {
    servers,
    name: settings.name ?? defaultName,
    user: settings.user,
    pass: settings.pass,
    token: settings.token,
    maxReconnectAttempts: settings.maxReconnectAttempts ?? -1,
    reconnectTimeWait: settings.reconnectTimeWaitMs ?? 2_000,
    timeout: settings.connectTimeoutMs ?? 5_000,
    pingInterval: settings.pingIntervalMs,
    // The client would capture a stack for every request it makes (JetStream publishes, API
    // calls); Brigade wraps each failure with its own context instead.
    noAsyncTraces: true,
  };
  if (settings.credentialsFile) {
    options.authenticator = credsAuthenticator(readFileSync(settings.credentialsFile));
  } else if (settings.nkeySeed) {
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(settings.nkeySeed));
  }
  if (settings.tls === true) options.tls = {};
  else if (settings.tls) options.tls = { ...settings.tls };
  return options;
}
