/**
 * One lane per key: an item runs at once unless an item of its key is running, in which case it
 * waits behind it, in arrival order. Items of different keys, and items without one, run at once.
 */
export class KeyedLanes<T> {
  /** Keys with a running item, each with the items waiting behind it. */
  private readonly lanes = new Map<string, T[]>();

  /** True when `item` may run now; else it waits until `leave(key)` hands it out. */
  enter(key: string | undefined, item: T): boolean {
    if (key === undefined) return true;
    const waiting = this.lanes.get(key);
    if (!waiting) {
      this.lanes.set(key, []);
      return true;
    }
    waiting.push(item);
    return false;
  }

  /** The running item of `key` is done: the next one of its lane to run, if any. */
  leave(key: string | undefined): T | undefined {
    if (key === undefined) return undefined;
    const waiting = this.lanes.get(key);
    const next = waiting?.shift();
    if (waiting && next === undefined) this.lanes.delete(key);
    return next;
  }

  /** Every item waiting behind another. */
  *waiting(): IterableIterator<T> {
    for (const lane of this.lanes.values()) yield* lane;
  }
}
