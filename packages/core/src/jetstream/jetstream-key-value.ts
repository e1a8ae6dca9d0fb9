import { nuid, type KV, type KvEntry, type NatsError, type StreamConfig } from 'nats';
import { keyProblem, nameProblem } from '../common/naming-rules';
import { parseDuration } from '../common/duration';
import { replicas } from '../discovery/stream-declaration';
import {
  ConflictError,
  InvalidKeyError,
  InvalidOptionError,
  JetStreamError,
  UnavailableError,
} from '../common/errors';
import { jsonCodec } from '../transport/json.codec';
import type { Logger } from '../common/logger';
import {
  isUnavailable,
  untilLeader,
  whileUnavailable,
  type JetStreamContext,
} from './jetstream-context';
import { TTL, ttlHeader } from './message-ttl';
import { Features } from './server-features';

import {
  KeyValueBucket,
  KeyValueStores,
  type BucketOptions,
  type KeyValueEntry,
  type WriteOptions,
} from './key-value';

const WRITE_TIMEOUT_MS = 5_000;

/**
 * A bucket of the JetStream key-value store. With limit markers (`limitMarkerTtl`), a key's own
 * TTL is written as `Nats-TTL` on a plain JetStream publish to its subject (the `nats` 2.x client's
 * buckets know no TTLs), and the marker left where a key expired reads as no value: a marker has
 * no body, and a JSON value always has one.
 */
export class JetStreamBucket<T> extends KeyValueBucket<T> {
  constructor(
    private readonly kv: KV,
    private readonly name: string,
    /** The JetStream context, when the bucket has limit markers (and so key TTLs). */
    private readonly markers: JetStreamContext | undefined,
  ) {
    super();
  }

  override get(key: string): Promise<KeyValueEntry<T> | undefined> {
    return this.call(key, 'read', async () => {
      const entry = await this.kv.get(key);
      return entry && this.holdsValue(entry) ? decode<T>(entry) : undefined;
    });
  }

  override create(key: string, value: T, options: WriteOptions = {}): Promise<number> {
    return this.call(
      key,
      'create',
      async () => {
        const ttl = this.ttlOf(options);
        if (ttl === undefined && !this.markers) return this.kv.create(key, jsonCodec.encode(value));
        // A key whose last entry is a delete or a marker may be created again: against that entry.
        const last = await this.kv.get(key);
        if (last && this.holdsValue(last)) throw new ConflictError(`key '${key}' exists already`);
        return this.write(key, value, ttl, last?.revision ?? 0);
      },
      () => `key '${key}' exists already`,
    );
  }

  override update(key: string, value: T, revision: number): Promise<number> {
    return this.call(
      key,
      'update',
      () => this.kv.update(key, jsonCodec.encode(value), revision),
      () => `key '${key}' changed since revision ${revision}`,
    );
  }

  override put(key: string, value: T, options: WriteOptions = {}): Promise<number> {
    return this.call(key, 'write', async () => {
      const ttl = this.ttlOf(options);
      if (ttl === undefined) return this.kv.put(key, jsonCodec.encode(value));
      return this.write(key, value, ttl, undefined);
    });
  }

  override delete(key: string): Promise<void> {
    return this.call(key, 'delete', () => this.kv.delete(key));
  }

  override async keys(): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const key of await this.kv.keys()) keys.push(key);
    } catch (cause) {
      throw this.unavailable(cause, 'list the keys of') ?? cause;
    }
    if (!this.markers) return keys;
    // The client lists a marker's key like any other: read each, and keep those with a value.
    const held = await Promise.all(keys.map(async (key) => (await this.get(key)) !== undefined));
    return keys.filter((_, i) => held[i]);
  }

  /** A put or a delete, not a marker left where a TTL or `maxAge` removed the key. */
  private holdsValue(entry: KvEntry): boolean {
    return entry.operation === 'PUT' && !(this.markers && entry.length === 0);
  }

  private ttlOf(options: WriteOptions): string | undefined {
    if (options.ttl === undefined) return undefined;
    const ttl = ttlHeader(options.ttl);
    if (!this.markers)
      throw new InvalidOptionError(
        `a key's ttl needs a bucket opened with limitMarkerTtl (key-value bucket '${this.name}')`,
      );
    return ttl;
  }

  /** A write through JetStream itself, with `Nats-TTL`, and against `revision` when given. */
  private async write(
    key: string,
    value: T,
    ttl: string | undefined,
    revision: number | undefined,
  ): Promise<number> {
    const context = this.markers as JetStreamContext;
    const ack = await context.publish(
      `$KV.${this.name}.${key}`,
      jsonCodec.encode(value),
      {
        ...(ttl !== undefined && { [TTL]: ttl }),
        ...(revision !== undefined && { 'Nats-Expected-Last-Subject-Sequence': String(revision) }),
      },
      nuid.next(),
      WRITE_TIMEOUT_MS,
    );
    return ack.sequence;
  }

  /** Runs one operation on `key`: the key checked first, the server's answer mapped. */
  private async call<R>(
    key: string,
    operation: string,
    run: () => Promise<R>,
    conflict?: () => string,
  ): Promise<R> {
    const problem = keyProblem(key);
    if (problem) throw new InvalidKeyError(key, problem);
    try {
      return await run();
    } catch (cause) {
      if (conflict && isWrongLastSequence(cause)) throw new ConflictError(conflict(), { cause });
      throw this.unavailable(cause, `${operation} a key in`) ?? cause;
    }
  }

  private unavailable(cause: unknown, what: string): UnavailableError | undefined {
    if (!isUnavailable(cause)) return undefined;
    return new UnavailableError(
      `cannot ${what} key-value bucket '${this.name}' now: JetStream is unavailable`,
      { cause },
    );
  }
}

/** The buckets of the app's JetStream. */
export class JetStreamKeyValueStores extends KeyValueStores {
  constructor(
    private readonly jetstream: () => Promise<JetStreamContext>,
    private readonly logger: Logger,
  ) {
    super();
  }

  override async open<T>(bucket: string, options: BucketOptions = {}): Promise<KeyValueBucket<T>> {
    const problem = nameProblem(bucket);
    if (problem) throw new InvalidOptionError(`invalid bucket name '${bucket}': ${problem}`);
    const fail = (field: string, problem: string): never => {
      throw new InvalidOptionError(`bucket '${bucket}': invalid ${field}: ${problem}`);
    };
    const ttl = options.maxAge === undefined ? 0 : parseDuration(options.maxAge);
    if (typeof ttl === 'string') fail('maxAge', ttl);
    const copies = replicas(options.replicas, fail);
    const markerTtl =
      options.limitMarkerTtl === undefined ? 0 : parseDuration(options.limitMarkerTtl);
    if (typeof markerTtl === 'string') fail('limitMarkerTtl', markerTtl);
    if (options.limitMarkerTtl !== undefined && (markerTtl as number) < 1_000)
      fail('limitMarkerTtl', 'it is at least 1 second');
    const context = await this.jetstream();
    const { js } = context;
    if (markerTtl)
      context.capabilities.require(
        Features.subjectDeleteMarkers,
        `limit markers on key-value bucket '${bucket}'`,
      );
    const kv = await whileUnavailable(
      `opening key-value bucket '${bucket}'`,
      () =>
        js.views
          .kv(bucket, {
            history: options.history ?? 1,
            ttl: ttl as number,
            replicas: copies,
            storage: options.storage === 'memory' ? ('memory' as never) : ('file' as never),
          })
          .catch((cause: unknown) => {
            throw new JetStreamError(
              `cannot open key-value bucket '${bucket}': ${(cause as Error).message}`,
              { cause },
            );
          }),
      this.logger,
    );
    // A replicated bucket answers writes once its stream has a leader.
    if (copies > 1) await untilLeader(context.jsm, `KV_${bucket}`);
    if (markerTtl) await this.allowMarkers(context, bucket, markerTtl as number);
    return new JetStreamBucket<T>(kv, bucket, markerTtl ? context : undefined);
  }

  /** The bucket's stream allows per-message TTLs and leaves markers this long (never undone). */
  private async allowMarkers(
    context: JetStreamContext,
    bucket: string,
    markerTtlMs: number,
  ): Promise<void> {
    const stream = `KV_${bucket}`;
    const config = (await context.jsm.streams.info(stream)).config as StreamConfig & {
      allow_msg_ttl?: boolean;
      subject_delete_marker_ttl?: number;
    };
    const markerTtl = markerTtlMs * 1_000_000;
    if (config.allow_msg_ttl && config.subject_delete_marker_ttl === markerTtl) return;
    await context.jsm.streams.update(stream, {
      ...config,
      allow_msg_ttl: true,
      subject_delete_marker_ttl: markerTtl,
    } as StreamConfig);
    this.logger.info(
      { bucket, limitMarkerTtlMs: markerTtlMs },
      `key-value bucket '${bucket}' takes key TTLs`,
    );
  }
}

function decode<T>(entry: KvEntry): KeyValueEntry<T> {
  return { key: entry.key, value: jsonCodec.decode(entry.value) as T, revision: entry.revision };
}

/** 10071: wrong last sequence (the key moved on, or exists already for create). */
function isWrongLastSequence(cause: unknown): boolean {
  const err = cause as Partial<NatsError> & { api_error?: { err_code?: number } };
  return err.api_error?.err_code === 10071 || /wrong last sequence/i.test(err.message ?? '');
}
