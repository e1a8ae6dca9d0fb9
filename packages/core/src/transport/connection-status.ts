export type ConnectionState = 'connected' | 'reconnecting' | 'closed';

/** A connection to NATS as a tool shows it: its state and the server it is connected to. */
export interface ConnectionStatus {
  readonly state: ConnectionState;
  /** Times the connection was restored after a loss. */
  readonly reconnects: number;
  readonly server?: {
    readonly id: string;
    readonly name: string;
    readonly version: string;
    /** Whether the server has JetStream enabled. */
    readonly jetstream: boolean;
    /** The address connected to. */
    readonly url: string;
  };
}
