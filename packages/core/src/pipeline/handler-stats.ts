import type { ServiceError } from '../common/errors';

/** Counters of one handler, as the NATS Service API `STATS` reports them. */
export interface HandlerStats {
  /** Messages taken, including those that failed or were turned away. */
  readonly numRequests: number;
  /** Error replies sent, event handlers that threw, messages turned away. */
  readonly numErrors: number;
  /** The last error's text, `""` when none. */
  readonly lastError: string;
  /**
   * Total time spent in the handler, awaited, in integer nanoseconds. Exact while every message
   * was timed; in bursts, where one in several is, the mean of the timed ones stands for the rest.
   */
  readonly processingTimeNs: number;
  /**
   * Events a core (not durable) event handler dropped: `maxPending` were already waiting, the
   * headers could not be decoded, or the app stopped before they ran. In `STATS` as `data.dropped`.
   */
  readonly dropped: number;
  /**
   * Handlers given up on: still running their timeout's grace after their deadline, their slot
   * went to the next message. In `STATS` as `data.abandoned` once there is one.
   */
  readonly abandoned: number;
  /** Of those, the ones still running. In `STATS` as `data.abandoned_running`. */
  readonly abandonedRunning: number;
  /**
   * Times a durable handler's breaker opened (its consumer paused) and closed again. In `STATS`
   * as `data.breaker_opened` and `data.breaker_closed` for a handler with a breaker.
   */
  readonly breakerOpened: number;
  readonly breakerClosed: number;
}

/** The live counters behind `HandlerStats`, kept by a handler's invoker. */
export class HandlerCounters {
  numRequests = 0;
  numErrors = 0;
  lastError = '';
  dropped = 0;
  abandoned = 0;
  abandonedRunning = 0;
  breakerOpened = 0;
  breakerClosed = 0;
  /** Durable messages copied to the dead-letter stream. */
  deadLettered = 0;
  /** Messages the handler ran: `numRequests` less those turned away. */
  ran = 0;
  /** How many of those were timed, and their total time in integer nanoseconds. */
  timed = 0;
  timedNs = 0;

  /** Counts an error of a message already counted. */
  failed(error: ServiceError): void {
    this.numErrors++;
    this.lastError = `${error.status} ${error.message}`;
  }

  snapshot(): HandlerStats {
    const { numRequests, numErrors, lastError, dropped, ran, timed, timedNs } = this;
    const { abandoned, abandonedRunning, breakerOpened, breakerClosed } = this;
    const processingTimeNs = timed === ran ? timedNs : Math.round((timedNs / timed) * ran);
    return {
      numRequests,
      numErrors,
      lastError,
      processingTimeNs,
      dropped,
      abandoned,
      abandonedRunning,
      breakerOpened,
      breakerClosed,
    };
  }
}
