/** What the server said about a durable publish. */
export interface PublishAck {
  /** The stream that stored the message. */
  readonly stream: string;
  /** Its sequence in that stream. */
  readonly sequence: number;
  /** True when the `Nats-Msg-Id` was seen within the duplicate window: stored once only. */
  readonly duplicate: boolean;
}
