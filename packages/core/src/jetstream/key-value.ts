import type { KV, KvEntry, NatsError } from 'nats';
import { keyProblem, nameProblem } from '../discovery/naming-rules';
import { parseDuration, type Duration } from '../discovery/duration';
import { replicas } from '../discovery/stream-declaration';
import {
  ConflictError,
  InvalidKeyError,
  InvalidOptionError,
  JetStreamError,
  UnavailableError,
} from '../errors';
import { jsonCodec } from '../transport/json.codec';
import type { Logger } from '../runtime/logger';
import { isUnavailable, whileUnavailable, type JetStreamContext } from './jetstream-context';

/** A value read from a bucket, with the revision to update it against. */
export interface KeyValueEntry<T> {
  readonly key: string;
  readonly value: T;
  readonly revision: number;
}

export interface BucketOptions {
  /** Values kept per key (the latest, and older ones). Default: 1. */
  history?: number;
  /** Entries older than this are removed. Default: kept. */
  maxAge?: Duration;
  /** `file` (default) survives a server restart. */
  storage?: 'file' | 'memory';
  /** Replicas in a cluster (1 to 5), for a bucket Brigade creates. Default: 1. */
  replicas?: number;
}

/**
 * A JetStream key-value bucket holding JSON values, with optimistic concurrency. A key the bucket
 * cannot hold is refused with `InvalidKeyError` (400) before anything is sent; when JetStream
 * cannot answer (no leader, a timeout, no connection) an operation fails with `UnavailableError`
 * (503), so a handler's caller learns to retry rather than seeing a 500.
 */
export class KeyValueBucket<T> {
  constructor(
    private readonly kv: KV,
    private readonly name: string,
  ) {}

  get(key: string): Promise<KeyValueEntry<T> | undefined> {
    return this.call(key, 'read', async () => {
      const entry = await this.kv.get(key);
      return entry && entry.operation === 'PUT' ? decode<T>(entry) : undefined;
    });
  }

  /** Stores a new key; `ConflictError` when it exists. Returns the revision. */
  create(key: string, value: T): Promise<number> {
    return this.call(
      key,
      'create',
      () => this.kv.create(key, jsonCodec.encode(value)),
      () => `key '${key}' exists already`,
    );
  }

  /** Replaces a key's value if it is still at `revision`; `ConflictError` when another write came first. */
  update(key: string, value: T, revision: number): Promise<number> {
    return this.call(
      key,
      'update',
      () => this.kv.update(key, jsonCodec.encode(value), revision),
      () => `key '${key}' changed since revision ${revision}`,
    );
  }

  put(key: string, value: T): Promise<number> {
    return this.call(key, 'write', () => this.kv.put(key, jsonCodec.encode(value)));
  }

  delete(key: string): Promise<void> {
    return this.call(key, 'delete', () => this.kv.delete(key));
  }

  async keys(): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const key of await this.kv.keys()) keys.push(key);
    } catch (cause) {
      throw this.unavailable(cause, 'list the keys of') ?? cause;
    }
    return keys;
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

/** Opens key-value buckets on the app's connection (created when missing). Injectable. */
export class KeyValueStores {
  /** @internal Created by the app; inject it, do not construct it. */
  constructor(
    private readonly jetstream: () => Promise<JetStreamContext>,
    private readonly logger: Logger,
  ) {}

  async open<T>(bucket: string, options: BucketOptions = {}): Promise<KeyValueBucket<T>> {
    const problem = nameProblem(bucket);
    if (problem) throw new InvalidOptionError(`invalid bucket name '${bucket}': ${problem}`);
    const fail = (field: string, problem: string): never => {
      throw new InvalidOptionError(`bucket '${bucket}': invalid ${field}: ${problem}`);
    };
    const ttl = options.maxAge === undefined ? 0 : parseDuration(options.maxAge);
    if (typeof ttl === 'string') fail('maxAge', ttl);
    const copies = replicas(options.replicas, fail);
    const { js } = await this.jetstream();
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
    return new KeyValueBucket<T>(kv, bucket);
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
