import { MAX_TIMER_MS } from '../common/duration';

/** The shortest time between two wake-ups of a watch, in ms: a crowd of deadlines is swept together. */
const RESOLUTION_MS = 10;

/**
 * One timer for the deadlines of a binding's messages, instead of one per message: it is set for
 * the earliest deadline it was told of, and when it fires, `sweep` deals with what is due and
 * says when the next thing falls due. A deadline later than the one set costs a comparison, so
 * the common case (every message with the same timeout, each later than the one before) arms
 * the timer once per quiet period, not per message. A sweep may come up to `RESOLUTION_MS` late.
 */
export class DeadlineWatch {
  private timer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private lastWake = -Infinity;

  constructor(
    /** Deals with what is due at `now` (`performance.now()` ms); returns the next due time, or `Infinity`. */
    private readonly sweep: (now: number) => number,
  ) {}

  /** Something falls due at `at` (`performance.now()` ms). */
  expect(at: number): void {
    if (at < this.wakeAt) this.arm(at);
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.wakeAt = Infinity;
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.wakeAt = at;
    const now = performance.now();
    const delay = Math.max(Math.ceil(at - now), Math.ceil(this.lastWake + RESOLUTION_MS - now), 0);
    this.timer = setTimeout(this.wake, Math.min(delay, MAX_TIMER_MS)).unref();
  }

  private readonly wake = (): void => {
    this.timer = undefined;
    this.wakeAt = Infinity;
    const now = performance.now();
    this.lastWake = now;
    const next = this.sweep(now);
    if (next < Infinity) this.arm(next);
  };
}
