import type { KV, KvEntry, NatsError } from 'nats';
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
import { isUnavailable, whileUnavailable, type JetStreamContext } from './jetstream-context';

import {
  KeyValueBucket,
  KeyValueStores,
  type BucketOptions,
  type KeyValueEntry,
} from './key-value';

/** A bucket of the JetStream key-value store. */
export class JetStreamBucket<T> extends KeyValueBucket<T> {
  constructor(
    private readonly kv: KV,
    private readonly name: string,
  ) {
    super();
  }

  override get(key: string): Promise<KeyValueEntry<T> | undefined> {
    return this.call(key, 'read', async () => {
      const entry = await this.kv.get(key);
      return entry && entry.operation === 'PUT' ? decode<T>(entry) : undefined;
    });
  }

  override create(key: string, value: T): Promise<number> {
    return this.call(
      key,
      'create',
      () => this.kv.create(key, jsonCodec.encode(value)),
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

  override put(key: string, value: T): Promise<number> {
    return this.call(key, 'write', () => this.kv.put(key, jsonCodec.encode(value)));
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
    return new JetStreamBucket<T>(kv, bucket);
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
