import type { KV, KvEntry, NatsError } from 'nats';
import { nameProblem } from '../discovery/naming-rules';
import { parseDuration, type Duration } from '../discovery/duration';
import { ConflictError, InvalidOptionError, JetStreamError } from '../errors';
import { jsonCodec } from '../transport/json.codec';
import type { JetStreamContext } from './jetstream-context';

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
}

/** A JetStream key-value bucket holding JSON values, with optimistic concurrency. */
export class KeyValueBucket<T> {
  constructor(private readonly kv: KV) {}

  async get(key: string): Promise<KeyValueEntry<T> | undefined> {
    const entry = await this.kv.get(key);
    return entry && entry.operation === 'PUT' ? decode<T>(entry) : undefined;
  }

  /** Stores a new key; `ConflictError` when it exists. Returns the revision. */
  async create(key: string, value: T): Promise<number> {
    try {
      return await this.kv.create(key, jsonCodec.encode(value));
    } catch (cause) {
      throw asConflict(cause, `key '${key}' exists already`);
    }
  }

  /** Replaces a key's value if it is still at `revision`; `ConflictError` when another write came first. */
  async update(key: string, value: T, revision: number): Promise<number> {
    try {
      return await this.kv.update(key, jsonCodec.encode(value), revision);
    } catch (cause) {
      throw asConflict(cause, `key '${key}' changed since revision ${revision}`);
    }
  }

  async put(key: string, value: T): Promise<number> {
    return this.kv.put(key, jsonCodec.encode(value));
  }

  async delete(key: string): Promise<void> {
    await this.kv.delete(key);
  }

  async keys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys()) keys.push(key);
    return keys;
  }
}

/** Opens key-value buckets on the app's connection (created when missing). Injectable. */
export class KeyValueStores {
  constructor(private readonly jetstream: () => Promise<JetStreamContext>) {}

  async open<T>(bucket: string, options: BucketOptions = {}): Promise<KeyValueBucket<T>> {
    const problem = nameProblem(bucket);
    if (problem) throw new InvalidOptionError(`invalid bucket name '${bucket}': ${problem}`);
    const ttl = options.maxAge === undefined ? 0 : parseDuration(options.maxAge);
    if (typeof ttl === 'string')
      throw new InvalidOptionError(`bucket '${bucket}': invalid maxAge: ${ttl}`);
    const { js } = await this.jetstream();
    try {
      const kv = await js.views.kv(bucket, {
        history: options.history ?? 1,
        ttl,
        storage: options.storage === 'memory' ? ('memory' as never) : ('file' as never),
      });
      return new KeyValueBucket<T>(kv);
    } catch (cause) {
      throw new JetStreamError(
        `cannot open key-value bucket '${bucket}': ${(cause as Error).message}`,
        { cause },
      );
    }
  }
}

function decode<T>(entry: KvEntry): KeyValueEntry<T> {
  return { key: entry.key, value: jsonCodec.decode(entry.value) as T, revision: entry.revision };
}

function asConflict(cause: unknown, message: string): Error {
  const err = cause as Partial<NatsError> & { api_error?: { err_code?: number } };
  // 10071: wrong last sequence (the key moved on, or exists for create).
  if (err.api_error?.err_code === 10071 || /wrong last sequence/i.test(err.message ?? '')) {
    return new ConflictError(message, { cause });
  }
  return cause as Error;
}
