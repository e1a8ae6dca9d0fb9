export interface WaitForOptions {
  /** Give up after this many ms. Default: 5,000. */
  timeout?: number;
  /** Poll every this many ms. Default: 10. */
  interval?: number;
  /** Said in the error when the deadline passes; a function says what stands by then. */
  message?: string | (() => string);
}

/**
 * Polls `condition` until it returns a truthy value (which is returned) or the deadline passes
 * (which throws, with `message` and the last error the condition threw). No fixed sleeps.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeout = options.timeout ?? 5_000;
  const interval = options.interval ?? 10;
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      const what = typeof options.message === 'function' ? options.message() : options.message;
      throw new Error(`waitFor: ${what ?? 'condition not met'} within ${timeout} ms${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
