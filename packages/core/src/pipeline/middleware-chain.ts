import type { MessageContext } from '../common/message-context';
import type { Layer, Middleware } from '../common/middleware';
import type { StepFactory } from './step';

/** A handler method as the invoker calls it. */
export type HandlerMethod = (payload: unknown, ctx: MessageContext) => unknown;

/**
 * The user's middleware as a step: the app's (`middleware`), then the service's and the handler's,
 * outermost first; composed once when the app starts. A handler without any has no such step.
 */
export function middlewareStep(middleware: readonly Middleware[]): StepFactory {
  return ({ definition, serviceName }) => {
    const layers = [...middleware, ...definition.middleware];
    if (layers.length === 0) return undefined;
    const handler = {
      service: serviceName,
      name: definition.name,
      kind: definition.kind,
      subject: definition.subject,
      durable: definition.durable !== undefined,
    };
    const where = `${serviceName}#${definition.name}`;
    return {
      wrap: (next) => (payload, ctx) =>
        runChain(
          layers,
          { handler, context: ctx, payload },
          (invocation) => next(invocation.payload, ctx),
          where,
        ),
    };
  };
}

/**
 * What a chain ends with when a layer called `next()` and neither returned nor awaited what it
 * gave back (a forgotten `return`), and the rest of the chain then failed: the failure, which
 * nothing else would have seen, and what the layer returned instead.
 */
export class UnwatchedFailure extends Error {
  constructor(
    /** Where the chain runs, for the log: `kitchen#cook`, `the Bus (publish 'x')`. */
    readonly where: string,
    /** What the rest of the chain (the handler, or the send) failed with. */
    override readonly cause: unknown,
    /** What the layer returned instead (`undefined` for a forgotten `return`). */
    readonly result: unknown,
  ) {
    super(`a middleware of ${where} called next() without returning or awaiting it, and it failed`);
    this.name = 'UnwatchedFailure';
  }
}

/** What a handler or a send failed with, seen through an `UnwatchedFailure`. */
export function failureOf(error: unknown): unknown {
  return error instanceof UnwatchedFailure ? error.cause : error;
}

/**
 * Runs `value` through `layers`, outermost first, then `last`; resolves with what the outermost
 * layer returned. A synchronous throw anywhere becomes a rejection. `next()` runs once at most
 * (a second call throws). A layer's outcome waits for what its `next()` started, so the message
 * is never settled while its handler still runs; if that failed and the layer never looked at
 * it (it neither returned nor awaited `next()`'s promise), the chain rejects with an
 * `UnwatchedFailure` instead of leaving a rejection nobody handles.
 */
export function runChain<T>(
  layers: readonly Layer<T>[],
  value: T,
  last: (value: T) => unknown,
  where: string,
): Promise<unknown> {
  let reached = -1;
  const step = (index: number): Promise<unknown> => {
    if (index <= reached) throw new Error(`a middleware of ${where} called next() twice`);
    reached = index;
    const layer = layers[index];
    if (layer === undefined) {
      // What the layer above gets from next(): made a NextResult here, not wrapped in one later.
      try {
        return NextResult.resolve(last(value));
      } catch (err) {
        return NextResult.reject(err as Error);
      }
    }
    return runLayer(layer, value, () => step(index + 1), where);
  };
  return step(0);
}

/**
 * `next()`'s promise: a promise whose `then` (which `await`, `return`, `catch` and `finally` all
 * reach) records that the layer looked at the outcome.
 */
class NextResult extends Promise<unknown> {
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  observed = false;

  override then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.observed = true;
    return super.then(onFulfilled, onRejected);
  }
}

const promiseThen = Promise.prototype.then;

/** `promise` as a `NextResult` nobody has looked at yet: itself when it is one. */
function unobserved(promise: Promise<unknown>): NextResult {
  if (promise instanceof NextResult && !promise.observed) return promise;
  return new NextResult((resolve, reject) => {
    promiseThen.call(promise, resolve, reject);
  });
}

function runLayer<T>(
  layer: Layer<T>,
  value: T,
  inner: () => Promise<unknown>,
  where: string,
): Promise<unknown> {
  let next: NextResult | undefined;
  let layerReturned = false;
  /** Settles once what `next()` started has settled; never rejects. */
  let innerSettled: Promise<void> | undefined;
  let innerFailure: { error: unknown } | undefined;
  // Through the plain `then`: watching it here is not the layer looking at it. Started once the
  // layer returned (or at next(), if that comes later), in the same turn as any rejection could.
  const watch = (): void => {
    innerSettled = promiseThen.call(next, undefined, (error: unknown) => {
      innerFailure = { error };
    }) as Promise<void>;
  };
  const callNext = (): Promise<unknown> => {
    next = unobserved(inner());
    if (layerReturned) watch();
    return next;
  };
  let result: unknown;
  try {
    result = layer(value, callNext);
  } catch (err) {
    layerReturned = true;
    if (next === undefined) return Promise.reject(err as Error);
    watch();
    return (innerSettled as Promise<void>).then(() => Promise.reject(err as Error));
  }
  layerReturned = true;
  // `return next()`: the layer's outcome is the rest of the chain's, nothing to watch.
  if (result !== undefined && result === next) return next;
  if (next !== undefined) watch();
  // Looked at once the layer settled: it may have called `next()` after an `await`.
  return Promise.resolve(result).then(
    (returned) =>
      innerSettled === undefined
        ? returned
        : innerSettled.then(() => {
            if (innerFailure && !(next as NextResult).observed)
              throw new UnwatchedFailure(where, innerFailure.error, returned);
            return returned;
          }),
    (err: unknown) =>
      innerSettled === undefined
        ? Promise.reject(err as Error)
        : innerSettled.then(() => Promise.reject(err as Error)),
  );
}
