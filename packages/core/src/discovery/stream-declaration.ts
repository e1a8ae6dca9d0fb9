import { InvalidOptionError } from '../common/errors';
import { parseDuration, type Duration } from '../common/duration';
import { nameProblem, positiveIntegerProblem, subjectProblem } from '../common/naming-rules';

/** A JetStream stream the app declares; provisioned at start (created, or updated when changed). */
export interface StreamDeclaration {
  /** Letters, digits, `_` and `-`. */
  name: string;
  /** The subjects the stream stores, wildcards allowed. */
  subjects: readonly string[];
  description?: string;
  /** Retention: messages older than this are removed. Default: kept until another limit applies. */
  maxAge?: Duration;
  /** Retention: at most this many messages (the oldest go first). */
  maxMsgs?: number;
  /** Retention: at most this many bytes (the oldest go first). */
  maxBytes?: number;
  /** `file` (default) survives a server restart; `memory` does not. */
  storage?: 'file' | 'memory';
  /** How long a `Nats-Msg-Id` is remembered for de-duplication. Default: 2 minutes (the server's). */
  duplicateWindow?: Duration;
  /**
   * Replicas in a cluster (1 to 5). Default: 1 for a stream Brigade creates. Brigade raises an
   * existing stream's replicas to this, but never lowers them: a stream an operator gave more
   * keeps them, and the start logs a warning saying so.
   */
  replicas?: number;
  /**
   * Allow messages with a TTL of their own (`bus.publish(subject, data, { durable: true, ttl })`).
   * Needs nats-server 2.11 or later; once a stream allows it, it cannot be taken back.
   */
  allowMsgTtl?: boolean;
  /**
   * When age (`maxAge`, or a message's own TTL) removes the last message of a subject, leave a
   * marker there for this long: a message without a body whose `Nats-Marker-Reason` header says
   * why, which durable handlers and key-value reads see. At least 1 second; implies `allowMsgTtl`.
   * Needs nats-server 2.11 or later.
   */
  subjectDeleteMarkerTtl?: Duration;
  /**
   * Take schedules (`Schedules.schedule`): the stream allows them and also stores
   * `$SCHED.<name>.>`, where it keeps one message per schedule. `true` needs nats-server 2.12 or
   * later and fails `start()` on an older one; `'if-supported'` leaves them off there, with one
   * warning at start saying why. Once a stream takes schedules, it keeps them. Default: false.
   */
  schedules?: boolean | 'if-supported';
}

/** A validated stream declaration; durations in ms, limits `-1` when unset. */
export interface StreamDefinition {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly description: string;
  readonly maxAgeMs: number;
  readonly maxMsgs: number;
  readonly maxBytes: number;
  readonly storage: 'file' | 'memory';
  readonly duplicateWindowMs: number;
  readonly replicas: number;
  /** Declared streams keep messages by limits; Brigade's own advisory stream is a work queue. */
  readonly retention: 'limits' | 'workqueue';
  /** Messages may carry a TTL of their own. */
  readonly allowMsgTtl: boolean;
  /** How long a subject delete marker stays, in ms; 0 for none. */
  readonly subjectDeleteMarkerTtlMs: number;
  /** Whether it takes schedules: never, always (a server without them fails start), or if it can. */
  readonly schedules: 'off' | 'on' | 'if-supported';
}

const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;

export function defineStreams(
  declarations: readonly StreamDeclaration[] | undefined,
): readonly StreamDefinition[] {
  if (declarations === undefined) return [];
  if (!Array.isArray(declarations))
    throw new InvalidOptionError('streams must be a list of stream declarations');
  const seen = new Set<string>();
  return Object.freeze(
    declarations.map((d, i) => {
      const definition = defineStream(d, i);
      if (seen.has(definition.name))
        throw new InvalidOptionError(`streams: '${definition.name}' is declared twice`);
      seen.add(definition.name);
      return definition;
    }),
  );
}

function defineStream(d: StreamDeclaration, index: number): StreamDefinition {
  const where = `streams[${index}]${typeof d?.name === 'string' ? ` ('${d.name}')` : ''}`;
  const fail = (field: string, problem: string): never => {
    throw new InvalidOptionError(`${where}: invalid ${field}: ${problem}`);
  };
  if (typeof d !== 'object' || d === null) fail('declaration', 'expected { name, subjects, ... }');
  const nameIssue = nameProblem(d.name);
  if (nameIssue) fail('name', nameIssue);
  if (!Array.isArray(d.subjects) || d.subjects.length === 0)
    fail('subjects', 'give at least one subject');
  for (const subject of d.subjects) {
    const issue = subjectProblem(subject);
    if (issue) fail(`subject '${String(subject)}'`, issue);
  }
  const ms = (field: string, value: Duration | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    const parsed = parseDuration(value);
    return typeof parsed === 'string' ? fail(field, parsed) : parsed;
  };
  const count = (field: string, value: number | undefined, fallback: number): number => {
    const issue = positiveIntegerProblem(value);
    return issue ? fail(field, issue) : (value ?? fallback);
  };
  const storage = d.storage ?? 'file';
  if (storage !== 'file' && storage !== 'memory') fail('storage', "storage is 'file' or 'memory'");
  const maxAgeMs = ms('maxAge', d.maxAge, 0);
  const duplicateWindowMs = ms(
    'duplicateWindow',
    d.duplicateWindow,
    Math.min(DEFAULT_DUPLICATE_WINDOW_MS, maxAgeMs || Infinity),
  );
  if (maxAgeMs > 0 && duplicateWindowMs > maxAgeMs)
    fail('duplicateWindow', 'it may not be longer than maxAge');
  if (d.allowMsgTtl !== undefined && typeof d.allowMsgTtl !== 'boolean')
    fail('allowMsgTtl', `it is true or false, got ${String(d.allowMsgTtl)}`);
  const subjectDeleteMarkerTtlMs = ms('subjectDeleteMarkerTtl', d.subjectDeleteMarkerTtl, 0);
  if (d.subjectDeleteMarkerTtl !== undefined && subjectDeleteMarkerTtlMs < 1_000)
    fail('subjectDeleteMarkerTtl', 'it is at least 1 second');
  if (
    d.schedules !== undefined &&
    typeof d.schedules !== 'boolean' &&
    d.schedules !== 'if-supported'
  )
    fail('schedules', `it is true, false or 'if-supported', got ${String(d.schedules)}`);
  return Object.freeze({
    name: d.name,
    subjects: Object.freeze([...d.subjects]),
    description: d.description ?? '',
    maxAgeMs,
    maxMsgs: count('maxMsgs', d.maxMsgs, -1),
    maxBytes: count('maxBytes', d.maxBytes, -1),
    storage,
    duplicateWindowMs,
    replicas: replicas(d.replicas, fail),
    retention: 'limits',
    allowMsgTtl: d.allowMsgTtl === true || subjectDeleteMarkerTtlMs > 0,
    subjectDeleteMarkerTtlMs,
    schedules:
      d.schedules === true ? 'on' : d.schedules === 'if-supported' ? 'if-supported' : 'off',
  });
}

/** The most replicas JetStream keeps of a stream. */
export const MAX_REPLICAS = 5;

/** Validated replicas, 1 when not given; `fail` is called with the problem. */
export function replicas(value: unknown, fail: (field: string, problem: string) => never): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_REPLICAS)
    return fail(
      'replicas',
      `must be a whole number from 1 to ${MAX_REPLICAS}, got ${String(value)}`,
    );
  return value;
}

/** True when every subject `filter` matches is matched by `pattern` (both may hold wildcards). */
export function subjectCovers(pattern: string, filter: string): boolean {
  const p = pattern.split('.');
  const f = filter.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return f.length > i;
    const other = f[i];
    if (other === undefined) return false;
    if (token === '*') {
      if (other === '>') return false;
      continue;
    }
    if (other !== token) return false;
  }
  return p.length === f.length;
}
