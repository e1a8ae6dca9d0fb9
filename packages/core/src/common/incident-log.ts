import type { Logger } from './logger';

/** How often a handler that keeps failing or dropping logs a summary line, in ms. */
const SUMMARY_INTERVAL_MS = 10_000;
/** Kinds logged in full within one busy period; further new kinds are only counted. */
const MAX_KINDS_IN_FULL = 10;
/** Kinds a summary names one by one; the rest are summed as `other`. */
const MAX_KINDS_COUNTED = 20;

export type IncidentLevel = 'info' | 'warn' | 'error';

const RANK: Record<IncidentLevel, number> = { info: 0, warn: 1, error: 2 };

interface Tally {
  count: number;
  level: IncidentLevel;
}

/**
 * The log lines a handler writes per message (failures, drops, dead letters, overruns), kept to a
 * bounded number however many messages go wrong: the first incident of a kind is logged at once
 * in full (its stack, its fields); while incidents go on, the others are counted and logged as
 * one summary line per interval (how many, of which kinds, the last one's text). A quiet interval
 * ends the busy period, so the next incident of any kind is logged in full again. The counts
 * themselves are in the handler's stats.
 */
export class IncidentLog {
  private readonly inFull = new Set<string>();
  private readonly pending = new Map<string, Tally>();
  /** The one-line text of the last incident counted. */
  private last = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly where: string,
    private readonly intervalMs = SUMMARY_INTERVAL_MS,
  ) {}

  /**
   * One incident of `kind`: logged at once as `message` with `fields` if it is the first of its
   * kind in this busy period, else counted; `summary` is its one-line text for the summary.
   */
  add(
    kind: string,
    level: IncidentLevel,
    fields: Record<string, unknown>,
    message: string,
    summary: string,
  ): void {
    if (this.timer === undefined) this.timer = setTimeout(this.summarise, this.intervalMs).unref();
    if (!this.inFull.has(kind) && this.inFull.size < MAX_KINDS_IN_FULL) {
      this.inFull.add(kind);
      this.logger[level](
        fields,
        `${message}; more like it are summed up every ${this.intervalMs / 1000} s`,
      );
      return;
    }
    const key = this.pending.has(kind) || this.pending.size < MAX_KINDS_COUNTED ? kind : 'other';
    this.last = summary;
    const tally = this.pending.get(key);
    if (tally === undefined) {
      this.pending.set(key, { count: 1, level });
    } else {
      tally.count++;
      if (RANK[level] > RANK[tally.level]) tally.level = level;
    }
  }

  /** Logs what is still unreported and ends the busy period; called at stop. */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.report();
    this.inFull.clear();
  }

  /** Reports the interval that ended; a busy one opens the next, a quiet one ends the period. */
  private readonly summarise = (): void => {
    if (this.report()) {
      this.timer = setTimeout(this.summarise, this.intervalMs).unref();
    } else {
      this.timer = undefined;
      this.inFull.clear();
    }
  };

  /** Logs the incidents counted and not yet reported; false when there were none. */
  private report(): boolean {
    if (this.pending.size === 0) return false;
    let count = 0;
    let level: IncidentLevel = 'info';
    const kinds: Record<string, number> = {};
    for (const [kind, tally] of this.pending) {
      count += tally.count;
      kinds[kind] = tally.count;
      if (RANK[tally.level] > RANK[level]) level = tally.level;
    }
    this.pending.clear();
    this.logger[level](
      { count, kinds, last: this.last },
      `${this.where}: ${count} more like the above in the last ${this.intervalMs / 1000} s (${Object.entries(
        kinds,
      )
        .map(([kind, n]) => `${kind} ×${n}`)
        .join(', ')})`,
    );
    return true;
  }
}
