import type { Duration } from '../common/duration';

/**
 * When the server publishes a scheduled message (ADR-51): once, at a time or after a delay
 * (nats-server 2.12 or later), or again and again, every interval or by a cron expression
 * (2.14 or later).
 */
export type ScheduleTiming =
  /** Once, at this time (a `Date`, or an ISO 8601 string with its zone); a past time fires at once. */
  | { at: Date | string }
  /** Once, this long from now. */
  | { after: Duration }
  /** Every interval, in whole seconds of at least 1 (`'30s'`, `'5m'`), from when it is scheduled. */
  | { every: Duration }
  /**
   * By a cron expression of six fields, seconds first (`'0 30 9 * * mon-fri'`), or `@hourly`,
   * `@daily`, `@weekly`, `@monthly`, `@yearly`; in `timeZone` (an IANA name such as
   * `'Asia/Seoul'`), or UTC when none is given.
   */
  | { cron: string; timeZone?: string };

export interface ScheduleOptions {
  /**
   * The schedule's name within its stream (letters, digits, `_` and `-`): scheduling again under
   * the same name replaces that schedule. Default: a new unique name.
   */
  name?: string;
  /** Headers of the message the server publishes (besides its own `Nats-Scheduler`). */
  headers?: Record<string, string>;
  /** How long to wait for the stream to store the schedule, in ms. Default: 5,000. */
  timeoutMs?: number;
}

/** A schedule the stream holds: until it fires for a one-off, until cancelled for a recurring one. */
export interface Schedule {
  /** The stream holding the schedule, which also stores what it publishes. */
  readonly stream: string;
  /** Its name within the stream: the handle for `cancel`. */
  readonly name: string;
  /** The subject the server publishes to. */
  readonly subject: string;
  /** As the server holds it: `@at 2026-12-08T10:00:00Z`, `@every 30s`, or a cron expression. */
  readonly schedule: string;
  /** The time zone of a cron schedule; absent for UTC. */
  readonly timeZone?: string;
  /** When it was scheduled (RFC 3339). */
  readonly scheduledAt: string;
}

/**
 * Messages published later by nats-server itself, from a schedule stored in a stream: no timer
 * in any app, so a schedule survives every restart of every service. The stream of the target
 * subject must take schedules (`schedules: true` in its declaration). Injectable; the app and
 * the client provide it.
 */
export abstract class Schedules {
  /**
   * Stores `payload` (JSON) to be published to `subject` as `timing` says, through the stream
   * that stores `subject`. Throws `ServerTooOldError` before anything is sent when the server
   * lacks the kind of schedule, `NoStreamError` when no stream stores `subject`, and
   * `InvalidOptionError` for a timing, name or subject the server would refuse.
   */
  abstract schedule(
    subject: string,
    payload: unknown,
    timing: ScheduleTiming,
    options?: ScheduleOptions,
  ): Promise<Schedule>;
  /**
   * Whether a schedule to `subject` would be stored: the server has schedules (recurring ones
   * when asked) and the stream that stores `subject` takes them. For a feature that switches
   * itself off on an older server instead of failing there.
   */
  abstract accepts(subject: string, options?: { recurring?: boolean }): Promise<boolean>;
  /** The schedules `stream` holds, or every stream that takes schedules; by stream and name. */
  abstract list(stream?: string): Promise<Schedule[]>;
  /**
   * Removes a schedule before it fires (or fires again). False when there is none by that name:
   * a one-off that has fired is gone.
   */
  abstract cancel(stream: string, name: string): Promise<boolean>;
}

/** The subjects where a stream keeps its schedules, one per name: `$SCHED.<stream>.<name>`. */
export function scheduleSubject(stream: string, name = '>'): string {
  return `$SCHED.${stream}.${name}`;
}
