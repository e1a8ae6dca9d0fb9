import { clip } from '../common/clip';
import type { Logger } from '../common/logger';

/** How often a handler that keeps dropping events logs a summary line, in ms. */
const SUMMARY_INTERVAL_MS = 10_000;

/**
 * Logs a handler's dropped events as at most one line per interval, however many there are: the
 * first drop at once with its subject and reason, then, while drops go on, one line per interval
 * saying how many more and why. The counts themselves are in the handler's stats.
 */
export class DropReport {
  private readonly pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly where: string,
    private readonly intervalMs = SUMMARY_INTERVAL_MS,
  ) {}

  add(subject: string, reason: string): void {
    if (this.timer !== undefined) {
      this.pending.set(reason, (this.pending.get(reason) ?? 0) + 1);
      return;
    }
    this.logger.warn(
      { subject: clip(subject), reason },
      `${this.where} dropped an event: ${reason}; further drops are summed up every ${this.intervalMs / 1000} s`,
    );
    this.timer = setTimeout(this.summarise, this.intervalMs).unref();
  }

  /** Logs what is still unreported; called at stop. */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.report();
  }

  /** Reports the window that ended; a busy window opens the next one, a quiet one ends it. */
  private readonly summarise = (): void => {
    this.timer = this.report() ? setTimeout(this.summarise, this.intervalMs).unref() : undefined;
  };

  /** Logs the drops not yet reported; false when there were none. */
  private report(): boolean {
    if (this.pending.size === 0) return false;
    let dropped = 0;
    for (const count of this.pending.values()) dropped += count;
    const reasons = Object.fromEntries(this.pending);
    this.pending.clear();
    this.logger.warn(
      { dropped, reasons },
      `${this.where} dropped ${dropped} more event(s) in the last ${this.intervalMs / 1000} s`,
    );
    return true;
  }
}
