import { AsyncLocalStorage, createHook, executionAsyncResource } from 'node:async_hooks';
import type { HandlerContext } from './handler-context';
import type { Next, StepFactory } from './step';

/**
 * Which message's context is current, for the Bus to carry its trace and correlation headers onto
 * what a handler sends, in the handler's synchronous part and in every continuation of it (after
 * an `await`, in a timer, a `.then`).
 *
 * Node 20's AsyncLocalStorage does the same with an async hook that copies the store of the
 * running resource to each new one; on top of that, its `run` looks up, replaces and restores the
 * running resource's store on every call, a large part of receiving a small event
 * (docs/performance.md, `npm run bench:instructions`). Here the
 * synchronous part only sets a variable: the hook's `init` copies it (else the running resource's
 * context) to every promise, timer or other async resource created meanwhile, so a continuation
 * finds its message's context on the resource it runs in. Nothing is written to the resource a
 * handler runs in, so nothing outlives the handler there.
 *
 * From Node 24 on, AsyncLocalStorage keeps its store in the async context frame V8 carries from a
 * promise or callback to its continuation: no async hook at all, and `run` is cheap. There it is
 * the one used; an async hook would switch on promise hooks for the whole process instead.
 */

/** Runs a handler with its message's context current, and says which context is current. */
export interface ContextScope {
  /** Calls `method` with `payload` and `ctx`, `ctx` current in it and in all it continues with. */
  run(ctx: HandlerContext, method: Next, payload: unknown): unknown;
  /** The context of the message being handled here, if any. */
  current(): HandlerContext | undefined;
}

/** The scope for Node 20 and 22: a variable for the synchronous part, an async hook for the rest. */
export class HookedScope implements ContextScope {
  private readonly key = Symbol('brigade.context');
  /** The context of the handler whose synchronous part is running, if one is. */
  private running: HandlerContext | undefined;
  private readonly propagation = createHook({
    init: (_asyncId, _type, _triggerAsyncId, resource: object) => {
      const ctx = this.running ?? this.inherited();
      if (ctx !== undefined) (resource as Carrier)[this.key] = ctx;
    },
  });
  private propagating = false;

  run(ctx: HandlerContext, method: Next, payload: unknown): unknown {
    if (!this.propagating) {
      this.propagating = true;
      this.propagation.enable();
      // Has Node keep the running resource of native callbacks too, as `executionAsyncResource` asks.
      executionAsyncResource();
    }
    const outer = this.running;
    this.running = ctx;
    try {
      return method(payload, ctx);
    } finally {
      this.running = outer;
    }
  }

  current(): HandlerContext | undefined {
    return this.running ?? (this.propagating ? this.inherited() : undefined);
  }

  private inherited(): HandlerContext | undefined {
    return (executionAsyncResource() as Carrier)[this.key];
  }
}

type Carrier = Record<symbol, HandlerContext | undefined>;

/** The scope for Node 24 and later, where AsyncLocalStorage needs no async hook. */
export class StorageScope implements ContextScope {
  private readonly storage = new AsyncLocalStorage<HandlerContext>();

  run(ctx: HandlerContext, method: Next, payload: unknown): unknown {
    return this.storage.run(ctx, method, payload, ctx);
  }

  current(): HandlerContext | undefined {
    return this.storage.getStore();
  }
}

const scope: ContextScope =
  Number(process.versions.node.split('.')[0]) >= 24 ? new StorageScope() : new HookedScope();

/** Runs the steps inside (the user's middleware, the handler) with the message's context current. */
export const contextStep: StepFactory = () => ({
  wrap: (next) => (payload, ctx) => scope.run(ctx, next, payload),
});

/** The context of the message being handled here, if any. */
export function currentHandlerContext(): HandlerContext | undefined {
  return scope.current();
}
