import { parseDuration, type Duration } from '../common/duration';
import { nameProblem } from '../common/naming-rules';
import { replicas, type StreamDefinition } from '../discovery/stream-declaration';
import { InvalidOptionError } from '../common/errors';

/** Where dead letters go. Provisioned at start when any handler is durable. */
export interface DeadLetterOptions {
  /** The dead-letter stream. Default: `DEAD_LETTERS`. */
  stream?: string;
  /** Subject prefix: a dead letter of consumer C on stream S goes to `<prefix>.S.C`. Default: `dlq`. */
  subjectPrefix?: string;
  /** How long dead letters are kept. Default: `'30d'`. */
  maxAge?: Duration;
  /** Replicas of the dead-letter stream and of its advisory stream, as for a declared stream. Default: 1. */
  replicas?: number;
}

/** Header names Brigade adds to a dead letter, beside the original headers. */
export const DeadLetterHeader = {
  Reason: 'Brigade-Dlq-Reason',
  Code: 'Brigade-Dlq-Code',
  Attempts: 'Brigade-Dlq-Attempts',
  Stream: 'Brigade-Dlq-Stream',
  Consumer: 'Brigade-Dlq-Consumer',
  Sequence: 'Brigade-Dlq-Sequence',
  Subject: 'Brigade-Dlq-Subject',
  Time: 'Brigade-Dlq-Time',
} as const;

export interface DeadLetterSettings {
  readonly stream: StreamDefinition;
  readonly subjectPrefix: string;
  /**
   * Captures the server's max-deliveries advisories, so none is lost while no backstop listens.
   * A work queue: an advisory is gone once its backstop handled it.
   */
  readonly advisories: StreamDefinition;
}

/** The advisory the server sends when a message reached its consumer's max deliveries. */
export const MAX_DELIVERIES_ADVISORY = '$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES';
const ADVISORY_RETENTION_MS = 7 * 86_400_000;

export function defineDeadLetters(options: DeadLetterOptions | undefined): DeadLetterSettings {
  const name = options?.stream ?? 'DEAD_LETTERS';
  const prefix = options?.subjectPrefix ?? 'dlq';
  const fail = (problem: string): never => {
    throw new InvalidOptionError(`deadLetter: ${problem}`);
  };
  if (nameProblem(name)) fail(`invalid stream '${name}': ${nameProblem(name) as string}`);
  if (nameProblem(prefix))
    fail(`invalid subjectPrefix '${prefix}': ${nameProblem(prefix) as string}`);
  const maxAgeMs = parseDuration(options?.maxAge ?? '30d');
  if (typeof maxAgeMs === 'string') fail(`invalid maxAge: ${maxAgeMs}`);
  const copies = replicas(options?.replicas, (field, problem) =>
    fail(`invalid ${field}: ${problem}`),
  );
  return Object.freeze({
    subjectPrefix: prefix,
    stream: Object.freeze({
      name,
      subjects: Object.freeze([`${prefix}.>`]),
      description: 'Brigade dead letters: messages durable handlers gave up on',
      maxAgeMs: maxAgeMs as number,
      maxMsgs: -1,
      maxBytes: -1,
      storage: 'file' as const,
      duplicateWindowMs: Math.min(3_600_000, maxAgeMs as number),
      replicas: copies,
      retention: 'limits' as const,
      allowMsgTtl: false,
      subjectDeleteMarkerTtlMs: 0,
      schedules: 'off',
    }),
    advisories: Object.freeze({
      name: `${name}_ADVISORIES`,
      subjects: Object.freeze([`${MAX_DELIVERIES_ADVISORY}.>`]),
      description: 'Brigade: max-deliveries advisories awaiting their backstop',
      maxAgeMs: ADVISORY_RETENTION_MS,
      maxMsgs: -1,
      maxBytes: -1,
      storage: 'file' as const,
      duplicateWindowMs: 120_000,
      replicas: copies,
      retention: 'workqueue' as const,
      allowMsgTtl: false,
      subjectDeleteMarkerTtlMs: 0,
      schedules: 'off',
    }),
  });
}

export function deadLetterSubject(
  settings: DeadLetterSettings,
  stream: string,
  consumer: string,
): string {
  return `${settings.subjectPrefix}.${stream}.${consumer}`;
}
