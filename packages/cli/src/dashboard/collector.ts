import type { BrigadeClient, ConnectionStatus, DeadLetter, DeadLetters } from '@brigade/core';
import { JetStreamApi, type StreamView } from '../jetstream-api';
import { ServicesView, type ServiceView } from './services-view';

export interface CollectorSettings {
  /** How often the bus is asked, in ms, however many pages are open. */
  readonly pollMs: number;
  /** How far back the charts reach, in ms. */
  readonly historyMs: number;
  /** How long one question waits for its answers, in ms. */
  readonly timeoutMs: number;
  /** How long discovery waits for one more answer after the last, in ms. */
  readonly stallMs: number;
  /** The dead-letter stream shown and acted on. */
  readonly deadLetterStream: string;
  /** How many dead letters are listed, oldest first. */
  readonly deadLetterLimit: number;
}

/** The NATS connection as the page shows it. */
export interface NatsView {
  /** `connecting` and `unreachable` before the first connection; then the client's state. */
  readonly state: 'connecting' | 'unreachable' | ConnectionStatus['state'];
  readonly servers: string;
  readonly error?: string;
  readonly since: string;
  readonly reconnects?: number;
  readonly server?: ConnectionStatus['server'];
}

/** A dead letter in the list: everything but its payload and headers (opened one by one). */
export type DeadLetterSummary = Omit<DeadLetter, 'data' | 'headers'>;

export interface DeadLettersView {
  readonly stream: string;
  /** False when JetStream is off or the stream does not exist (yet). */
  readonly exists: boolean;
  /** How many the stream holds; `letters` lists the oldest `deadLetterLimit`. */
  readonly total: number;
  readonly letters: readonly DeadLetterSummary[];
}

/** What one poll found: sent to every open page as it is. */
export interface Snapshot {
  readonly at: string;
  readonly pollMs: number;
  readonly nats: NatsView;
  readonly services: readonly ServiceView[];
  readonly streams: readonly StreamView[];
  readonly deadLetters: DeadLettersView;
  /** What a part of the poll could not read, by part (`services`, `streams`, `deadLetters`). */
  readonly problems: Readonly<Record<string, string>>;
}

/** Pause between attempts to reach NATS while it cannot be reached. */
const RECONNECT_PAUSE_MS = 2_000;

/**
 * Polls the bus at one bounded rate, whatever number of pages listen, and keeps the latest
 * snapshot. Starts without NATS and keeps trying: the page says NATS is unreachable meanwhile.
 */
export class DashboardCollector {
  private client: BrigadeClient | undefined;
  private jetstream: JetStreamApi | undefined;
  private readonly services: ServicesView;
  private snapshot: Snapshot;
  private readonly listeners = new Set<(snapshot: Snapshot) => void>();
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private letters: { key: string; list: DeadLetterSummary[] } | undefined;
  private connectFailure: { error: string; since: string } | undefined;

  constructor(
    private readonly connect: () => Promise<BrigadeClient>,
    private readonly servers: string,
    private readonly settings: CollectorSettings,
  ) {
    const points = Math.min(600, Math.ceil(settings.historyMs / settings.pollMs));
    this.services = new ServicesView(points, settings.timeoutMs, settings.stallMs);
    this.snapshot = {
      at: new Date().toISOString(),
      pollMs: settings.pollMs,
      nats: { state: 'connecting', servers, since: new Date().toISOString() },
      services: [],
      streams: [],
      deadLetters: { stream: settings.deadLetterStream, exists: false, total: 0, letters: [] },
      problems: {},
    };
  }

  get latest(): Snapshot {
    return this.snapshot;
  }

  /** Called with every new snapshot; returns the way to stop listening. */
  onSnapshot(listener: (snapshot: Snapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Polls again now rather than at the next tick (after an action changed something). */
  refresh(): void {
    this.letters = undefined;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    await this.client?.close();
  }

  /** The JetStream API on the dashboard's connection; `undefined` while not connected. */
  jetStreamApi(): JetStreamApi | undefined {
    return this.jetstream;
  }

  /** The dead letters the dashboard acts on; `undefined` while NATS is not connected. */
  deadLetters(): DeadLetters | undefined {
    return this.client?.deadLettersIn({ stream: this.settings.deadLetterStream });
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const began = Date.now();
      const client = this.client ?? (await this.tryConnect());
      const pause = client ? this.settings.pollMs : RECONNECT_PAUSE_MS;
      if (client) await this.poll(client);
      if (this.stopped) break;
      for (const listener of this.listeners) listener(this.snapshot);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, pause - (Date.now() - began)));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async tryConnect(): Promise<BrigadeClient | undefined> {
    try {
      this.client = await this.connect();
      this.jetstream = new JetStreamApi(this.client, this.settings.timeoutMs);
      this.connectFailure = undefined;
      return this.client;
    } catch (err) {
      this.connectFailure ??= { error: '', since: new Date().toISOString() };
      this.connectFailure.error = (err as Error).message;
      this.snapshot = {
        ...this.snapshot,
        at: new Date().toISOString(),
        nats: {
          state: 'unreachable',
          servers: this.servers,
          error: this.connectFailure.error,
          since: this.connectFailure.since,
        },
      };
      return undefined;
    }
  }

  private async poll(client: BrigadeClient): Promise<void> {
    const status = client.connection;
    const previous = this.snapshot.nats;
    const nats: NatsView = {
      state: status.state,
      servers: this.servers,
      since: previous.state === status.state ? previous.since : new Date().toISOString(),
      reconnects: status.reconnects,
      ...(status.server ? { server: status.server } : {}),
    };
    if (status.state !== 'connected') {
      // What was known stays on the page, under the connection's state.
      this.snapshot = { ...this.snapshot, at: new Date().toISOString(), nats };
      return;
    }
    const problems: Record<string, string> = {};
    const jetstream = status.server?.jetstream === true;
    const [services, streams] = await Promise.all([
      this.services.poll(client.bus).catch((err: unknown) => {
        problems['services'] = (err as Error).message;
        return this.snapshot.services;
      }),
      jetstream && this.jetstream
        ? this.jetstream.streams().catch((err: unknown) => {
            problems['streams'] = (err as Error).message;
            return this.snapshot.streams;
          })
        : [],
    ]);
    const deadLetters = await this.deadLettersIn(streams, client).catch((err: unknown) => {
      problems['deadLetters'] = (err as Error).message;
      return this.snapshot.deadLetters;
    });
    this.snapshot = {
      at: new Date().toISOString(),
      pollMs: this.settings.pollMs,
      nats,
      services,
      streams,
      deadLetters,
      problems,
    };
  }

  /**
   * The dead-letter list, read again only when the stream changed since the last read (its
   * first and last sequence and count), so an idle dashboard costs one stream listing a poll.
   */
  private async deadLettersIn(
    streams: readonly StreamView[],
    client: BrigadeClient,
  ): Promise<DeadLettersView> {
    const name = this.settings.deadLetterStream;
    const stream = streams.find((s) => s.name === name);
    if (!stream) {
      this.letters = undefined;
      return { stream: name, exists: false, total: 0, letters: [] };
    }
    const key = `${stream.firstSequence}:${stream.lastSequence}:${stream.messages}`;
    if (this.letters?.key !== key) {
      const all = await client
        .deadLettersIn({ stream: name })
        .list({ limit: this.settings.deadLetterLimit });
      this.letters = { key, list: all.map(({ data: _d, headers: _h, ...summary }) => summary) };
    }
    return { stream: name, exists: true, total: stream.messages, letters: this.letters.list };
  }
}
