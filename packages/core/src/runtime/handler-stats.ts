/** Counters of one handler, as the NATS Service API `STATS` reports them. */
export interface HandlerStats {
  /** Messages taken, including those that failed or were turned away. */
  numRequests: number;
  /** Error replies sent, event handlers that threw, messages turned away. */
  numErrors: number;
  /** The last error's text, `""` when none. */
  lastError: string;
  /** Total time spent in the handler, awaited, in integer nanoseconds. */
  processingTimeNs: number;
  /** Events dropped because `maxPending` were already waiting. */
  dropped: number;
}

export function emptyStats(): HandlerStats {
  return { numRequests: 0, numErrors: 0, lastError: '', processingTimeNs: 0, dropped: 0 };
}
