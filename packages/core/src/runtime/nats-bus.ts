import { randomUUID } from 'node:crypto';
import {
  isContractEntry,
  type ContractEntry,
  type EndpointContract,
  type EventContract,
  type EventOf,
  type ReceivedReplyOf,
  type RequestOf,
} from '../common/contract';
import { check, describeIssues } from '../common/schema';
import type { JetStreamContext } from '../jetstream/jetstream-context';
import type { PublishAck } from '../jetstream/publish-ack';
import {
  CodecError,
  InvalidOptionError,
  InvalidSubjectError,
  NotRunningError,
  ValidationError,
} from '../common/errors';
import { publishSubjectProblem } from '../common/naming-rules';
import { jsonCodec } from '../transport/json.codec';
import type { NatsTransport } from '../transport/nats-transport';
import type { HeaderInit, WireMessage } from '../transport/wire-message';
import { headerFault, headerRecord } from '../transport/header-codec';
import {
  Bus,
  type DurablePublishOptions,
  type GatheredReply,
  type PublishOptions,
  type RequestManyOptions,
  type RequestOptions,
} from './bus';
import { decodeErrorReply } from './error-codec';
import { currentHandlerContext } from './context-scope';
import type { OutgoingMessage, OutgoingMiddleware } from '../common/middleware';
import { runChain, UnwatchedFailure } from './middleware';
import { REQUEST_TIMEOUT } from './trace-context';
import { sendTelemetry, type Telemetry } from './telemetry';

const MAX_REMEMBERED_SUBJECTS = 1_024;
const NO_OPTIONS: PublishOptions = Object.freeze({});
const PUBLISHED: Promise<void> = Promise.resolve();

/** The `Bus` on the app's NATS connection. */
export class NatsBus extends Bus {
  private readonly validSubjects = new Set<string>();
  /** The outgoing steps, telemetry's outermost; none costs nothing. */
  private readonly outgoing: readonly OutgoingMiddleware[];

  constructor(
    private readonly transport: NatsTransport,
    private readonly jetstream: () => Promise<JetStreamContext>,
    private readonly defaultTimeoutMs: number,
    /** Middleware around everything it sends, outermost first. */
    outgoing: readonly OutgoingMiddleware[] = [],
    telemetry: Telemetry = {},
  ) {
    super();
    const observe = sendTelemetry(telemetry);
    this.outgoing = observe ? [observe, ...outgoing] : outgoing;
  }

  override publish<T = unknown>(
    subject: string,
    data: T,
    options: DurablePublishOptions,
  ): Promise<PublishAck>;
  override publish<T = unknown>(subject: string, data?: T, options?: PublishOptions): Promise<void>;
  override publish<E extends EventContract>(
    entry: E,
    data: EventOf<E>,
    options: DurablePublishOptions,
  ): Promise<PublishAck>;
  override publish<E extends EventContract>(
    entry: E,
    data: EventOf<E>,
    options?: PublishOptions,
  ): Promise<void>;
  override publish(
    target: string | EventContract,
    data?: unknown,
    options: PublishOptions | DurablePublishOptions = NO_OPTIONS,
  ): Promise<PublishAck | void> {
    if (typeof target !== 'string') {
      return checkedFor(target, 'event', data, options).then(() =>
        this.publish(target.subject, data, options as DurablePublishOptions),
      );
    }
    const subject = target;
    // Not async: a core publish is on the hot path and costs no promise of its own.
    try {
      const transport = this.open(subject);
      const headers = withPropagation(options.headers);
      const durable = 'durable' in options && options.durable === true;
      if (this.outgoing.length > 0) {
        return this.through(durable ? 'durable-publish' : 'publish', subject, data, headers, (m) =>
          durable
            ? this.publishDurable(subject, encoded(m), m.headers, options)
            : transport.publish(subject, encoded(m), m.headers),
        ) as Promise<PublishAck | void>;
      }
      const body = jsonCodec.encode(data);
      if (!durable) {
        transport.publish(subject, body, headers);
        return PUBLISHED;
      }
      return this.publishDurable(subject, body, headers, options as DurablePublishOptions);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** Runs one send through the outgoing middleware; `send` gets the message as they left it. */
  private through(
    operation: OutgoingMessage['operation'],
    subject: string,
    payload: unknown,
    headers: HeaderInit | undefined,
    send: (message: OutgoingMessage) => unknown,
  ): Promise<unknown> {
    const message: OutgoingMessage = { operation, subject, payload, headers: { ...headers } };
    return runChain(this.outgoing, message, send, `the Bus (${operation} '${subject}')`).catch(
      rethrowUnwatched,
    );
  }

  private async publishDurable(
    subject: string,
    body: Uint8Array,
    headers: HeaderInit | undefined,
    options: DurablePublishOptions,
  ): Promise<PublishAck> {
    const timeout = this.timeoutOf(options.timeout, 'timeout');
    const msgId = options.msgId ?? randomUUID();
    if (typeof msgId !== 'string' || msgId.length === 0) {
      throw new InvalidOptionError(`msgId must be a non-empty string, got ${String(msgId)}`);
    }
    return (await this.jetstream()).publish(subject, body, headers, msgId, timeout);
  }

  override request<TReply = unknown, TRequest = unknown>(
    subject: string,
    data?: TRequest,
    options?: RequestOptions,
  ): Promise<TReply>;
  override request<E extends EndpointContract>(
    entry: E,
    data: RequestOf<E>,
    options?: RequestOptions,
  ): Promise<ReceivedReplyOf<E>>;
  override async request<TReply>(
    target: string | EndpointContract,
    data?: unknown,
    options: RequestOptions = {},
  ): Promise<TReply> {
    if (typeof target !== 'string') {
      await checkedFor(target, 'endpoint', data, options);
      return this.request<TReply>(target.subject, data, options);
    }
    const subject = target;
    const transport = this.open(subject);
    const timeout = this.timeoutOf(options.timeout, 'timeout');
    const headers = withPropagation(options.headers, timeout);
    const raw = options.raw === true;
    if (this.outgoing.length > 0) {
      return this.through('request', subject, data, headers, async (m) =>
        decodeReply<TReply>(await transport.request(subject, encoded(m), m.headers, timeout), raw),
      ) as Promise<TReply>;
    }
    const reply = await transport.request(subject, jsonCodec.encode(data), headers, timeout);
    return decodeReply<TReply>(reply, raw);
  }

  override async requestMany<TReply = unknown, TRequest = unknown>(
    subject: string,
    data?: TRequest,
    options: RequestManyOptions = {},
  ): Promise<GatheredReply<TReply>[]> {
    const transport = this.open(subject);
    const maxWait = this.timeoutOf(options.maxWait, 'maxWait');
    const max = options.maxReplies ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new InvalidOptionError(
        `maxReplies must be a whole number of at least 1, got ${String(max)}`,
      );
    }
    const stall = options.stall === undefined ? undefined : this.timeoutOf(options.stall, 'stall');
    const headers = withPropagation(options.headers, maxWait);
    const send = async (body: Uint8Array, sent: HeaderInit | undefined) => {
      const replies = await transport.requestMany(subject, body, sent, maxWait, max, stall);
      return replies.map(gathered<TReply>);
    };
    if (this.outgoing.length === 0) return send(jsonCodec.encode(data), headers);
    return this.through('request-many', subject, data, headers, (m) =>
      send(encoded(m), m.headers),
    ) as Promise<GatheredReply<TReply>[]>;
  }

  override async flush(): Promise<void> {
    if (!this.transport.isClosed) await this.transport.flush();
  }

  private open(subject: string): NatsTransport {
    if (!this.validSubjects.has(subject)) {
      const problem = publishSubjectProblem(subject);
      if (problem) throw new InvalidSubjectError(subject, problem);
      // Most apps send to a handful of subjects: check each once (bounded, for apps that do not).
      if (this.validSubjects.size >= MAX_REMEMBERED_SUBJECTS) this.validSubjects.clear();
      this.validSubjects.add(subject);
    }
    if (this.transport.isClosed) {
      throw new NotRunningError(`cannot send to '${subject}': the app is stopped`);
    }
    return this.transport;
  }

  private timeoutOf(value: number | undefined, name: string): number {
    const timeout = value ?? this.defaultTimeoutMs;
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new InvalidOptionError(
        `${name} must be a positive number of milliseconds, got ${String(value)}`,
      );
    }
    return timeout;
  }
}

/**
 * Checks what is sent to a contract entry against the entry's schema (unless `validate: false`),
 * rejecting with a `ValidationError` (422) that lists every issue; nothing is sent then.
 */
async function checkedFor(
  entry: ContractEntry,
  kind: ContractEntry['kind'],
  data: unknown,
  options: PublishOptions,
): Promise<void> {
  if (!isContractEntry(entry) || entry.kind !== kind) {
    throw new InvalidOptionError(
      `${kind === 'event' ? 'publish' : 'request'} takes a subject or ${kind === 'event' ? 'an event()' : 'an endpoint()'} contract entry, got ${String((entry as Partial<ContractEntry>)?.kind ?? entry)}`,
    );
  }
  const schema = entry.kind === 'event' ? entry.payload : entry.request;
  if (schema === undefined || options.validate === false) return;
  const checked = await check(schema, data);
  if (checked.issues !== undefined) {
    const what = entry.kind === 'event' ? 'event' : 'request';
    throw new ValidationError(
      `invalid ${what} for '${entry.subject}': ${describeIssues(checked.issues)}`,
      { details: { issues: checked.issues } },
    );
  }
}

function withPropagation(
  headers: HeaderInit | undefined,
  timeoutMs?: number,
): HeaderInit | undefined {
  const ctx = currentHandlerContext();
  if (!ctx && timeoutMs === undefined) return headers;
  const merged: Record<string, string | readonly string[]> = {};
  if (ctx) Object.assign(merged, ctx.propagationHeaders());
  if (timeoutMs !== undefined) merged[REQUEST_TIMEOUT] = String(Math.ceil(timeoutMs));
  return headers ? Object.assign(merged, headers) : merged;
}

/** The body of a message the outgoing steps let through, its size noted for them. */
function encoded(message: OutgoingMessage): Uint8Array {
  const body = jsonCodec.encode(message.payload);
  message.bodySize = body.length;
  return body;
}

function gathered<T>(msg: WireMessage): GatheredReply<T> {
  const fault = headerFault(msg);
  if (fault !== undefined) return { ok: false, error: new CodecError(fault), headers: {} };
  const headers = headerRecord(msg.headers);
  try {
    const error = decodeErrorReply(msg);
    return error
      ? { ok: false, error, headers }
      : { ok: true, value: jsonCodec.decode(msg.data) as T, headers };
  } catch (err) {
    if (err instanceof CodecError) return { ok: false, error: err, headers };
    throw err;
  }
}

function decodeReply<T>(msg: WireMessage, raw: boolean): T {
  const error = decodeErrorReply(msg);
  if (error) throw error;
  return (raw ? msg.data : jsonCodec.decode(msg.data)) as T;
}

/**
 * A send that failed behind a middleware that did not look at it fails the call with the send's
 * own error, whatever the middleware returned instead: a lost publish is never reported as sent.
 */
function rethrowUnwatched(err: unknown): never {
  throw err instanceof UnwatchedFailure ? err.cause : err;
}
