import type { Duration } from '../common/duration';

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
  /**
   * Let keys expire by a TTL of their own (`put(key, value, { ttl })`), and when a TTL or
   * `maxAge` removes a key, keep a marker in its place for this long (at least 1 s), which reads
   * as no value. Needs nats-server 2.11 or later; once a bucket has it, it keeps it. Default: none.
   */
  limitMarkerTtl?: Duration;
}

/** Options of a single write. */
export interface WriteOptions {
  /**
   * How long the key keeps this value, in whole seconds of at least 1 (`'30s'`), or `'never'`
   * (past the bucket's `maxAge`). Needs a bucket opened with `limitMarkerTtl`.
   */
  ttl?: Duration | 'never';
}

/**
 * A JetStream key-value bucket holding JSON values, with optimistic concurrency. A key the bucket
 * cannot hold is refused with `InvalidKeyError` (400) before anything is sent; when JetStream
 * cannot answer (no leader, a timeout, no connection) an operation fails with `UnavailableError`
 * (503), so a handler's caller learns to retry rather than seeing a 500.
 */
export abstract class KeyValueBucket<T> {
  /** The key's current value, or `undefined` when it has none (never written, or deleted). */
  abstract get(key: string): Promise<KeyValueEntry<T> | undefined>;
  /** Stores a new key; `ConflictError` when it exists. Returns the revision. */
  abstract create(key: string, value: T, options?: WriteOptions): Promise<number>;
  /** Replaces a key's value if it is still at `revision`; `ConflictError` when another write came first. */
  abstract update(key: string, value: T, revision: number): Promise<number>;
  /** Stores a value whatever the key held. Returns the revision. */
  abstract put(key: string, value: T, options?: WriteOptions): Promise<number>;
  abstract delete(key: string): Promise<void>;
  /** Every key that holds a value. */
  abstract keys(): Promise<string[]>;
}

/**
 * Opens key-value buckets on the app's connection (created when missing). Injectable; the app
 * provides it.
 */
export abstract class KeyValueStores {
  /** The bucket `bucket`, created with `options` when it does not exist. */
  abstract open<T>(bucket: string, options?: BucketOptions): Promise<KeyValueBucket<T>>;
}
