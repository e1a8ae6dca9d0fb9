import type { Msg, MsgHdrs, NatsConnection } from 'nats';
import type { WireMessage } from '../transport/wire-message';

const ACK = new TextEncoder().encode('+ACK');
const WORKING = new TextEncoder().encode('+WPI');
// A bare term: nats-server 2.9 ignores `+TERM <reason>`.
const TERM = new TextEncoder().encode('+TERM');
const encoder = new TextEncoder();

/**
 * A message delivered by a pull consumer. Its reply subject is the JetStream ack subject,
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>` (or
 * with a domain and account hash after `$JS.ACK`), and the acknowledgements are published to it.
 */
export class PulledMessage implements WireMessage {
  private tokens: string[] | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly msg: Msg,
    /** Why its headers cannot be read (see `headerFault`); then `headers` must not be read. */
    readonly headerFault?: string,
  ) {}

  get subject(): string {
    return this.msg.subject;
  }

  get data(): Uint8Array {
    return this.msg.data;
  }

  get headers(): MsgHdrs | undefined {
    return this.msg.headers;
  }

  /** How often the message was delivered, 1 the first time. */
  get deliveryCount(): number {
    return Number(this.ackToken(4));
  }

  /** The message's sequence in its stream. */
  get sequence(): number {
    return Number(this.ackToken(5));
  }

  ack(): void {
    this.respond(ACK);
  }

  /** Redeliver after `delayMs` (at once when 0). */
  nak(delayMs = 0): void {
    this.respond(
      encoder.encode(delayMs > 0 ? `-NAK {"delay":${Math.round(delayMs * 1e6)}}` : '-NAK'),
    );
  }

  /** Resets the server's ack timer: the handler is still at it. */
  working(): void {
    this.respond(WORKING);
  }

  term(): void {
    this.respond(TERM);
  }

  /** The reply subject's token at `index` of the short form (0 = `$JS`). */
  private ackToken(index: number): string {
    this.tokens ??= (this.msg.reply ?? '').split('.');
    // The long form inserts a domain and an account hash after `$JS.ACK`.
    return this.tokens[this.tokens.length > 9 ? index + 2 : index] ?? '0';
  }

  private respond(body: Uint8Array): void {
    if (this.msg.reply) this.nc.publish(this.msg.reply, body);
  }
}
