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
import { Features } from '../jetstream/server-features';
import { TTL, ttlHeader } from '../jetstream/message-ttl';
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
import { decodeErrorReply } from '../pipeline/error-codec';
import { currentHandlerContext } from '../pipeline/context-scope';
import type { OutgoingMiddleware } from '../common/middleware';
import { REQUEST_TIMEOUT } from '../pipeline/trace-context';
import { encodeBody, outgoingPath, type Send } from './outgoing-path';

const MAX_REMEMBERED_SUBJECTS = 1_024;
const NO_OPTIONS: PublishOptions = Object.freeze({});
const PUBLISHED: Promise<void> = Promise.resolve();

interface RequestManyLimits {
  readonly maxWait: number;
  readonly max: number;
  readonly stall: number | undefined;
}

/** The `Bus` on the app's NATS connection: one way out per operation, built once. */
export class NatsBus extends Bus {
  private readonly validSubjects = new Set<string>();
  private readonly corePublish: Send<undefined, Promise<void> | Promise<unknown>>;
  private readonly durablePublish: Send<DurablePublishOptions, Promise<unknown>>;
  private readonly requestPath: Send<RequestOptions, Promise<unknown>>;
  private readonly requestManyPath: Send<RequestManyLimits, Promise<unknown>>;

  constructor(
    private readonly transport: NatsTransport,
    private readonly jetstream: () => Promise<JetStreamContext>,
    private readonly defaultTimeoutMs: number,
    /** The steps around everything it sends, outermost first (the app's telemetry among them). */
    outgoing: readonly OutgoingMiddleware[] = [],
  ) {
    super();
    // Not async: a core publish is on the hot path and costs no promise of its own.
    this.corePublish = outgoingPath('publish', outgoing, (subject, payload, headers, _, m) => {
      transport.publish(subject, encodeBody(payload, m), headers);
      return PUBLISHED;
    });
    this.durablePublish = outgoingPath(
      'durable-publish',
      outgoing,
      async (subject, payload, headers, options: DurablePublishOptions, m) => {
        const body = encodeBody(payload, m);
        const timeout = this.timeoutOf(options.timeout, 'timeout');
        const msgId = options.msgId ?? randomUUID();
        if (typeof msgId !== 'string' || msgId.length === 0) {
          throw new InvalidOptionError(`msgId must be a non-empty string, got ${String(msgId)}`);
        }
        const ttl = options.ttl === undefined ? undefined : ttlHeader(options.ttl);
        const jetstream = await this.jetstream();
        if (ttl !== undefined)
          jetstream.capabilities.require(Features.messageTtl, 'a durable publish with ttl');
        const sent = ttl === undefined ? headers : { ...headers, [TTL]: ttl };
        return jetstream.publish(subject, body, sent, msgId, timeout);
      },
    );
    this.requestPath = outgoingPath(
      'request',
      outgoing,
      async (subject, payload, headers, options: RequestOptions, m) => {
        const timeout = options.timeout ?? defaultTimeoutMs; // checked before the steps ran
        const reply = await transport.request(subject, encodeBody(payload, m), headers, timeout);
        return decodeReply(reply, options.raw === true);
      },
    );
    this.requestManyPath = outgoingPath(
      'request-many',
      outgoing,
      async (subject, payload, headers, { maxWait, max, stall }, m) => {
        const body = encodeBody(payload, m);
        const replies = await transport.requestMany(subject, body, headers, maxWait, max, stall);
        return replies.map(gathered);
      },
    );
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
    try {
      this.open(subject);
      const headers = withPropagation(options.headers);
      return (
        'durable' in options && options.durable === true
          ? this.durablePublish(subject, data, headers, options)
          : this.corePublish(subject, data, headers, undefined)
      ) as Promise<PublishAck | void>;
    } catch (err) {
      return Promise.reject(err as Error);
    }
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
  override request<TReply>(
    target: string | EndpointContract,
    data?: unknown,
    options: RequestOptions = NO_OPTIONS,
  ): Promise<TReply> {
    if (typeof target !== 'string') {
      return checkedFor(target, 'endpoint', data, options).then(() =>
        this.request<TReply>(target.subject, data, options),
      );
    }
    const subject = target;
    // Not async: the reply's promise is the caller's, without one more in between.
    try {
      this.open(subject);
      const headers = withPropagation(options.headers, this.timeoutOf(options.timeout, 'timeout'));
      return this.requestPath(subject, data, headers, options) as Promise<TReply>;
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  override async requestMany<TReply = unknown, TRequest = unknown>(
    subject: string,
    data?: TRequest,
    options: RequestManyOptions = {},
  ): Promise<GatheredReply<TReply>[]> {
    this.open(subject);
    const maxWait = this.timeoutOf(options.maxWait, 'maxWait');
    const max = options.maxReplies ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new InvalidOptionError(
        `maxReplies must be a whole number of at least 1, got ${String(max)}`,
      );
    }
    const stall = options.stall === undefined ? undefined : this.timeoutOf(options.stall, 'stall');
    const headers = withPropagation(options.headers, maxWait);
    return this.requestManyPath(subject, data, headers, { maxWait, max, stall }) as Promise<
      GatheredReply<TReply>[]
    >;
  }

  override async flush(): Promise<void> {
    if (!this.transport.isClosed) await this.transport.flush();
  }

  private open(subject: string): void {
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
