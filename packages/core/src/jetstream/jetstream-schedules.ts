import { nuid, type StoredMsg } from 'nats';
import { parseDuration } from '../common/duration';
import { InvalidOptionError, JetStreamError, NoStreamError, NotFoundError } from '../common/errors';
import { nameProblem, publishSubjectProblem } from '../common/naming-rules';
import { subjectCovers } from '../discovery/stream-declaration';
import { jsonCodec } from '../transport/json.codec';
import { isNotFound, type JetStreamContext } from './jetstream-context';
import {
  Schedules,
  scheduleSubject,
  type Schedule,
  type ScheduleOptions,
  type ScheduleTiming,
} from './schedules';
import { Features } from './server-features';

const DEFAULT_TIMEOUT_MS = 5_000;
const SCHEDULE = 'Nats-Schedule';
const TARGET = 'Nats-Schedule-Target';
const TIME_ZONE = 'Nats-Schedule-Time-Zone';
const PREDEFINED = /^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/;
const ZONED = /(Z|[+-]\d\d:?\d\d)$/i;

/** A schedule as the server takes it in `Nats-Schedule`. */
interface Pattern {
  readonly text: string;
  readonly timeZone?: string;
  readonly recurring: boolean;
}

/** Schedules kept by JetStream streams that allow them (ADR-51). */
export class JetStreamSchedules extends Schedules {
  /** The stream that stores a subject and takes schedules, once found. */
  private readonly streams = new Map<string, string>();

  constructor(private readonly jetstream: () => Promise<JetStreamContext>) {
    super();
  }

  override async schedule(
    subject: string,
    payload: unknown,
    timing: ScheduleTiming,
    options: ScheduleOptions = {},
  ): Promise<Schedule> {
    const subjectIssue = publishSubjectProblem(subject);
    if (subjectIssue)
      throw new InvalidOptionError(`schedule: subject '${String(subject)}': ${subjectIssue}`);
    const name = options.name ?? nuid.next();
    const nameIssue = nameProblem(name);
    if (nameIssue) throw new InvalidOptionError(`schedule: name '${String(name)}': ${nameIssue}`);
    const pattern = patternOf(timing);
    const context = await this.jetstream();
    if (pattern.recurring)
      context.capabilities.require(
        Features.recurringSchedules,
        `a recurring schedule ('${pattern.text}')`,
      );
    else context.capabilities.require(Features.messageSchedules, 'a one-off schedule');
    const stream = await this.streamFor(context, subject);
    const headers = {
      ...options.headers,
      [SCHEDULE]: pattern.text,
      [TARGET]: subject,
      ...(pattern.timeZone !== undefined && { [TIME_ZONE]: pattern.timeZone }),
    };
    try {
      await context.publish(
        scheduleSubject(stream, name),
        jsonCodec.encode(payload),
        headers,
        nuid.next(),
        options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      );
    } catch (cause) {
      const message = (cause as Error).message;
      if (/schedules? (pattern|target|time ?zone)/i.test(message))
        throw new InvalidOptionError(`schedule '${pattern.text}' to '${subject}': ${message}`, {
          cause,
        });
      throw cause;
    }
    return {
      stream,
      name,
      subject,
      schedule: pattern.text,
      ...(pattern.timeZone !== undefined && { timeZone: pattern.timeZone }),
      scheduledAt: new Date().toISOString(),
    };
  }

  override async accepts(subject: string, options: { recurring?: boolean } = {}): Promise<boolean> {
    const context = await this.jetstream();
    const feature = options.recurring ? Features.recurringSchedules : Features.messageSchedules;
    if (!context.capabilities.supports(feature)) return false;
    try {
      await this.streamFor(context, subject);
      return true;
    } catch (err) {
      if (err instanceof JetStreamError || err instanceof NoStreamError) return false;
      throw err;
    }
  }

  override async list(stream?: string): Promise<Schedule[]> {
    const { jsm } = await this.jetstream();
    const names = stream === undefined ? await streamsTakingSchedules(jsm) : [stream];
    const schedules: Schedule[] = [];
    for (const name of names) {
      const info = await readStream(name, () =>
        jsm.streams.info(name, { subjects_filter: scheduleSubject(name) }),
      );
      for (const subject of Object.keys(info.state.subjects ?? {}).sort()) {
        let stored: StoredMsg;
        try {
          stored = await jsm.streams.getMessage(name, { last_by_subj: subject });
        } catch (err) {
          if (isNotFound(err)) continue; // fired or cancelled since the listing
          throw err;
        }
        schedules.push(toSchedule(name, subject, stored));
      }
    }
    return schedules;
  }

  override async cancel(stream: string, name: string): Promise<boolean> {
    const nameIssue = nameProblem(name);
    if (nameIssue) throw new InvalidOptionError(`cancel: name '${String(name)}': ${nameIssue}`);
    const { jsm } = await this.jetstream();
    const purged = await readStream(stream, () =>
      jsm.streams.purge(stream, { filter: scheduleSubject(stream, name) }),
    );
    return purged.purged > 0;
  }

  private async streamFor(context: JetStreamContext, subject: string): Promise<string> {
    const known = this.streams.get(subject);
    if (known !== undefined) return known;
    let stream: string;
    try {
      stream = await context.jsm.streams.find(subject);
    } catch (cause) {
      if (/no stream matches/i.test((cause as Error).message))
        throw new NoStreamError(subject, { cause });
      throw cause;
    }
    const config = (await context.jsm.streams.info(stream)).config as {
      subjects?: string[];
      allow_msg_schedules?: boolean;
    };
    const held = scheduleSubject(stream, 'name');
    if (
      config.allow_msg_schedules !== true ||
      !config.subjects?.some((p) => subjectCovers(p, held))
    )
      throw new JetStreamError(
        `stream '${stream}', which stores '${subject}', takes no schedules: declare it with schedules: true ` +
          `(it allows schedules and stores ${scheduleSubject(stream)})`,
      );
    this.streams.set(subject, stream);
    return stream;
  }
}

function patternOf(timing: ScheduleTiming): Pattern {
  const fail = (problem: string): never => {
    throw new InvalidOptionError(`schedule: ${problem}`);
  };
  if (typeof timing !== 'object' || timing === null)
    return fail('give the timing as { at }, { after }, { every } or { cron, timeZone }');
  const given = Object.keys(timing).filter((key) => key !== 'timeZone');
  if (given.length !== 1)
    return fail(`give one of at, after, every or cron, got ${given.join(', ') || 'none'}`);
  const t = timing as { at?: unknown; after?: unknown; every?: unknown; cron?: unknown };
  const timeZone = (timing as { timeZone?: unknown }).timeZone;
  if (timeZone !== undefined && t.cron === undefined)
    fail('timeZone applies to cron schedules only (at takes a zone in its time)');
  if (t.at !== undefined) return once(dateOf(t.at, fail));
  if (t.after !== undefined) {
    const ms = parseDuration(t.after);
    return once(new Date(Date.now() + (typeof ms === 'string' ? fail(`after: ${ms}`) : ms)));
  }
  if (t.every !== undefined) {
    const ms = parseDuration(t.every);
    if (typeof ms === 'string') return fail(`every: ${ms}`);
    if (ms < 1_000 || ms % 1_000 !== 0)
      fail(
        `every is whole seconds of at least 1 (the server counts in seconds), got ${String(t.every)}`,
      );
    return { text: `@every ${ms / 1_000}s`, recurring: true };
  }
  const cron = typeof t.cron === 'string' ? t.cron.trim().replace(/\s+/g, ' ') : '';
  if (!PREDEFINED.test(cron) && cron.split(' ').length !== 6)
    fail(
      `cron has six fields, seconds first ('0 30 9 * * mon-fri'), or is @hourly, @daily, @weekly, @monthly or @yearly; got '${String(t.cron)}'`,
    );
  if (timeZone === undefined) return { text: cron, recurring: true };
  if (typeof timeZone !== 'string' || !isTimeZone(timeZone))
    fail(`timeZone '${String(timeZone)}' is not an IANA time zone such as 'Asia/Seoul'`);
  return { text: cron, timeZone: timeZone as string, recurring: true };
}

/** `@at` a whole second, rounded up: the server fires at whole seconds, never early. */
function once(date: Date): Pattern {
  const at = new Date(Math.ceil(date.getTime() / 1_000) * 1_000);
  return { text: `@at ${at.toISOString().replace('.000Z', 'Z')}`, recurring: false };
}

function dateOf(at: unknown, fail: (problem: string) => never): Date {
  if (typeof at === 'string' && !ZONED.test(at.trim()))
    fail(`at '${at}' has no zone: end it with Z or an offset such as +09:00`);
  const date = at instanceof Date ? at : typeof at === 'string' ? new Date(at) : undefined;
  if (!date || Number.isNaN(date.getTime()))
    fail(`at is a Date or an ISO 8601 time such as '2026-12-24T18:00:00+09:00', got ${String(at)}`);
  return date as Date;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function toSchedule(stream: string, subject: string, stored: StoredMsg): Schedule {
  const timeZone = stored.header?.get(TIME_ZONE);
  return {
    stream,
    name: subject.slice(scheduleSubject(stream, '').length),
    subject: stored.header?.get(TARGET) ?? '',
    schedule: stored.header?.get(SCHEDULE) ?? '',
    ...(timeZone && { timeZone }),
    scheduledAt: stored.time.toISOString(),
  };
}

async function streamsTakingSchedules(jsm: JetStreamContext['jsm']): Promise<string[]> {
  const names: string[] = [];
  for await (const info of jsm.streams.list())
    if ((info.config as { allow_msg_schedules?: boolean }).allow_msg_schedules === true)
      names.push(info.config.name);
  return names.sort();
}

/** Runs a request about one stream, a missing stream answered by `NotFoundError`. */
async function readStream<T>(stream: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (cause) {
    if (isNotFound(cause)) throw new NotFoundError(`there is no stream '${stream}'`, { cause });
    throw cause;
  }
}
