import { injectable, singleton } from '@brigade/core';

@injectable()
export class Clock {
  now(): number {
    return Date.now();
  }
}

/** The user's own singleton, with a dependency of its own: one instance for every service. */
@singleton()
export class Ledger {
  readonly entries: { name: string; at: number }[] = [];

  constructor(private readonly clock: Clock) {}

  record(name: string): number {
    this.entries.push({ name, at: this.clock.now() });
    return this.entries.length;
  }
}
