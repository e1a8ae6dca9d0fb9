import type { HandlerInvoker } from '../pipeline/handler-invoker';

/** What the app needs of every kind of binding: start, stop taking messages, wait, give up. */
export interface Binding {
  readonly invoker: HandlerInvoker;
  /** Starts taking messages; live on the server once the connection is flushed. */
  bind(): Promise<void>;
  /** Takes no more messages; resolves once those the server already sent are accepted. */
  unbind(): Promise<void>;
  /** Messages in flight or waiting. */
  readonly busy: number;
  /** Messages running, and waiting for a slot (or behind their key). */
  load(): { running: number; waiting: number };
  /** Resolves when nothing is in flight or waiting. */
  idle(): Promise<void>;
  /** Gives up on waiting messages when the grace period ends; returns how many. */
  abandonWaiting(reason: string): number;
  /** Logs what the binding's bounded logs still hold unreported; called once the app stopped. */
  flushLog(): void;
}

/** Resolves `idle()` waiters once a binding has nothing in flight or waiting. */
export class IdleSignal {
  private waiters: (() => void)[] = [];

  wait(busy: number): Promise<void> {
    if (busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  settle(busy: number): void {
    if (busy !== 0 || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
