import type { Logger } from '../common/logger';

/**
 * What an app opened, closed again last first: the same unwinding after a failed start (only what
 * was opened by then) and at stop. A closer that fails is logged; the others still run.
 */
export class Closers {
  private readonly stack: { readonly what: string; readonly close: () => unknown }[] = [];

  constructor(private readonly logger: Logger) {}

  /** `close` undoes what was just opened (`what`, for the log). */
  push(what: string, close: () => unknown): void {
    this.stack.push({ what, close });
  }

  async closeAll(): Promise<void> {
    for (let closer = this.stack.pop(); closer; closer = this.stack.pop()) {
      try {
        await closer.close();
      } catch (err) {
        this.logger.warn({ err }, `stopping: closing ${closer.what} failed`);
      }
    }
  }
}
