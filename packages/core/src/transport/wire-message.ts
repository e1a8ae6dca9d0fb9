/**
 * The transport's view of a message, shaped so that a `nats` Msg satisfies it as it is: the
 * runtime reads messages through these fields and never imports `nats`.
 */
export interface WireHeaders extends Iterable<[string, string[]]> {
  /** Status code of a server status message (503 for no responders), else 0. */
  readonly code: number;
  get(name: string, match?: number): string;
  has(name: string, match?: number): boolean;
}

export interface WireMessage {
  readonly subject: string;
  readonly reply?: string;
  readonly data: Uint8Array;
  readonly headers?: WireHeaders;
}

/** Outgoing headers: one value or several per name. */
export type HeaderInit = Readonly<Record<string, string | readonly string[]>>;

export interface TransportSubscription {
  /** Stops taking messages; resolves once the ones the server sent before are delivered. */
  drain(): Promise<void>;
  unsubscribe(): void;
}
