import { connect as tcpConnect, type Socket } from 'node:net';

/** What to put on the wire: every field is sent byte for byte, unchecked. */
export interface RawFrame {
  /** The header block as sent after `HPUB`'s sizes (`NATS/1.0\r\n...\r\n\r\n`). None: a `PUB`. */
  readonly headers?: string | Uint8Array;
  readonly payload?: string | Uint8Array;
  readonly reply?: string;
}

/** A message as the server delivered it, header block undecoded. */
export interface RawMessage {
  readonly subject: string;
  readonly reply: string | undefined;
  /** The header block exactly as received; `undefined` for a `MSG` without headers. */
  readonly headers: Buffer | undefined;
  readonly payload: Buffer;
}

export interface RawConnectOptions {
  /** Milliseconds to wait for the server's `PONG` after `CONNECT`. Default: 5,000. */
  timeoutMs?: number;
  /** Sent as `auth_token` in `CONNECT`. */
  token?: string;
}

const CRLF = Buffer.from('\r\n');

/**
 * A NATS connection that speaks the text protocol itself, so a spec can put bytes on the wire
 * that no client library would produce: header names with spaces or non-ASCII characters, header
 * blocks that are not `NATS/1.0`, invalid UTF-8, replies that poison a requester. It parses what
 * the server sends only as far as framing (`MSG`/`HMSG` sizes), never the header block.
 */
export class RawNatsConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private nextSid = 1;
  private readonly inboxes = new Map<number, RawInbox>();
  private readonly pongs: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the raw connection closed')));
  }

  /** Connects to `nats://host:port` (or `host:port`) and waits until the server accepted `CONNECT`. */
  static async open(url: string, options: RawConnectOptions = {}): Promise<RawNatsConnection> {
    const { hostname, port } = new URL(url.includes('://') ? url : `nats://${url}`);
    const socket = tcpConnect({ host: hostname, port: Number(port || 4222), noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const connection = new RawNatsConnection(socket);
    const connect = {
      verbose: false,
      pedantic: false,
      headers: true,
      no_responders: true,
      protocol: 1,
      lang: 'raw',
      version: '0',
      ...(options.token === undefined ? {} : { auth_token: options.token }),
    };
    socket.write(`CONNECT ${JSON.stringify(connect)}\r\n`);
    await connection.flush(options.timeoutMs ?? 5_000);
    return connection;
  }

  /** Sends `PUB` (no headers) or `HPUB` with the frame's bytes as they are. */
  publish(subject: string, frame: RawFrame = {}): void {
    const payload = toBuffer(frame.payload);
    const reply = frame.reply === undefined ? '' : ` ${frame.reply}`;
    if (frame.headers === undefined) {
      this.write(Buffer.from(`PUB ${subject}${reply} ${payload.length}\r\n`), payload, CRLF);
      return;
    }
    const headers = toBuffer(frame.headers);
    const total = headers.length + payload.length;
    this.write(
      Buffer.from(`HPUB ${subject}${reply} ${headers.length} ${total}\r\n`),
      headers,
      payload,
      CRLF,
    );
  }

  /** Subscribes (optionally in a queue group) and collects what arrives. */
  subscribe(subject: string, queue?: string): RawInbox {
    const sid = this.nextSid++;
    const inbox = new RawInbox(subject, () => {
      this.inboxes.delete(sid);
      if (!this.failure) this.write(Buffer.from(`UNSUB ${sid}\r\n`));
    });
    this.inboxes.set(sid, inbox);
    this.write(Buffer.from(`SUB ${subject}${queue ? ` ${queue}` : ''} ${sid}\r\n`));
    return inbox;
  }

  /** Publishes `frame` with a fresh reply inbox and resolves with the first message on it. */
  async request(subject: string, frame: RawFrame, timeoutMs = 5_000): Promise<RawMessage> {
    const reply = `_RAW_INBOX.${process.pid}.${this.nextSid}.${Date.now().toString(36)}`;
    // The server takes one connection's protocol in order: the SUB is in place before the PUB.
    const inbox = this.subscribe(reply);
    try {
      this.publish(subject, { ...frame, reply });
      return await inbox.next(timeoutMs);
    } finally {
      inbox.close();
    }
  }

  /** Resolves once the server answered a `PING` sent after everything written so far. */
  flush(timeoutMs = 5_000): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no PONG within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.pongs.push({
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.write(Buffer.from('PING\r\n'));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private write(...parts: Buffer[]): void {
    if (this.failure) throw this.failure;
    this.socket.write(Buffer.concat(parts));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const pong of this.pongs.splice(0)) pong.reject(err);
    for (const inbox of this.inboxes.values()) inbox.fail(err);
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const end = this.buffered.indexOf(CRLF);
      if (end < 0) return;
      const line = this.buffered.subarray(0, end).toString('latin1');
      const [op = '', ...args] = line.split(' ').filter(Boolean);
      const verb = op.toUpperCase();
      if (verb === 'MSG' || verb === 'HMSG') {
        const consumed = this.takeMessage(verb, args, end + 2);
        if (consumed === undefined) return; // the rest of the message has not arrived yet
        this.buffered = this.buffered.subarray(consumed);
        continue;
      }
      this.buffered = this.buffered.subarray(end + 2);
      if (verb === 'PING') this.write(Buffer.from('PONG\r\n'));
      else if (verb === 'PONG') this.pongs.shift()?.resolve();
      else if (verb === '-ERR') this.fail(new Error(`the server said ${line}`));
    }
  }

  /** Delivers one `MSG`/`HMSG` whose control line ends at `start`; returns the bytes it took. */
  private takeMessage(verb: string, args: string[], start: number): number | undefined {
    // MSG <subject> <sid> [reply] <size>; HMSG <subject> <sid> [reply] <hdr size> <total size>
    const sizes = verb === 'HMSG' ? 2 : 1;
    const [subject = '', sid = ''] = args;
    const reply = args.length === 2 + sizes + 1 ? args[2] : undefined;
    const total = Number(args[args.length - 1]);
    const headerSize = verb === 'HMSG' ? Number(args[args.length - 2]) : 0;
    if (this.buffered.length < start + total + 2) return undefined;
    const body = Buffer.from(this.buffered.subarray(start, start + total));
    this.inboxes.get(Number(sid))?.push({
      subject,
      reply,
      headers: verb === 'HMSG' ? body.subarray(0, headerSize) : undefined,
      payload: body.subarray(headerSize),
    });
    return start + total + 2;
  }
}

/** Messages of one raw subscription, in arrival order. */
export class RawInbox {
  readonly received: RawMessage[] = [];
  private waiters: { resolve: (msg: RawMessage) => void; reject: (err: Error) => void }[] = [];
  private taken = 0;
  private failure: Error | undefined;

  /** @internal */
  constructor(
    readonly subject: string,
    private readonly unsubscribe: () => void,
  ) {}

  /** The next message not yet taken, waiting at most `timeoutMs` for it. */
  next(timeoutMs = 5_000): Promise<RawMessage> {
    const ready = this.received[this.taken];
    if (ready) {
      this.taken++;
      return Promise.resolve(ready);
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<RawMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no message on '${this.subject}' within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        resolve: (msg: RawMessage) => {
          clearTimeout(timer);
          resolve(msg);
        },
        reject: (err: Error) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.waiters.push(waiter);
    });
  }

  close(): void {
    this.unsubscribe();
  }

  /** @internal */
  push(msg: RawMessage): void {
    this.received.push(msg);
    const waiter = this.waiters.shift();
    if (waiter) {
      this.taken++;
      waiter.resolve(msg);
    }
  }

  /** @internal */
  fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.waiters.splice(0)) waiter.reject(err);
  }
}

function toBuffer(value: string | Uint8Array | undefined): Buffer {
  if (value === undefined) return Buffer.alloc(0);
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
}
