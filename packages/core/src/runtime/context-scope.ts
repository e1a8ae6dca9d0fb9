import { createHook, executionAsyncResource } from 'node:async_hooks';
import type { HandlerMethod } from './middleware';
import type { HandlerContext } from './handler-context';

/**
 * Which message's context is current, for the Bus to carry its trace and correlation headers onto
 * what a handler sends, in the handler's synchronous part and in every continuation of it (after
 * an `await`, in a timer, a `.then`).
 *
 * Node 20's AsyncLocalStorage does the same with an async hook that copies the store of the
 * running resource to each new one; on top of that, its `run` looks up, replaces and restores the
 * running resource's store on every call: about 300 instructions per message, of Brigade's 1,000
 * on receiving a small event (docs/performance.md, `npm run bench:instructions`). Here the
 * synchronous part only sets a variable: the hook's `init` copies it (else the running resource's
 * context) to every promise, timer or other async resource created meanwhile, so a continuation
 * finds its message's context on the resource it runs in. Nothing is written to the resource a
 * handler runs in, so nothing outlives the handler there.
 */
const CONTEXT = Symbol('brigade.context');

interface Carrier {
  [CONTEXT]?: HandlerContext;
}

/** The context of the handler whose synchronous part is running, if one is. */
let running: HandlerContext | undefined;

function inherited(): HandlerContext | undefined {
  return (executionAsyncResource() as Carrier)[CONTEXT];
}

const propagation = createHook({
  init(_asyncId, _type, _triggerAsyncId, resource: object) {
    const ctx = running ?? inherited();
    if (ctx !== undefined) (resource as Carrier)[CONTEXT] = ctx;
  },
});
let propagating = false;

/** Calls `method` with `payload` and `ctx`, `ctx` current in it and in all it continues with. */
export function runInContext(
  ctx: HandlerContext,
  method: HandlerMethod,
  payload: unknown,
): unknown {
  if (!propagating) {
    propagating = true;
    propagation.enable();
    // Has Node keep the running resource of native callbacks too, as `executionAsyncResource` asks.
    executionAsyncResource();
  }
  const outer = running;
  running = ctx;
  try {
    return method(payload, ctx);
  } finally {
    running = outer;
  }
}

/** The context of the message being handled here, if any. */
export function currentHandlerContext(): HandlerContext | undefined {
  return running ?? (propagating ? inherited() : undefined);
}
