import type { MessageContext } from '../common/message-context';
import type { HandlerInfo, Layer, Middleware } from '../common/middleware';

/** A handler method as the invoker calls it. */
export type HandlerMethod = (payload: unknown, ctx: MessageContext) => unknown;

/**
 * The handler wrapped in `middleware`, outermost first, composed once when the app starts. With
 * none, the handler itself: the per-message path is what it is without middleware.
 */
export function composeMiddleware(
  middleware: readonly Middleware[],
  handler: HandlerInfo,
  method: HandlerMethod,
): HandlerMethod {
  if (middleware.length === 0) return method;
  const where = `${handler.service}#${handler.name}`;
  return (payload, context) =>
    runChain(
      middleware,
      { handler, context, payload },
      (invocation) => method(invocation.payload, invocation.context),
      where,
    );
}

/**
 * Runs `value` through `layers`, outermost first, then `last`; resolves with what the outermost
 * layer returned. A synchronous throw anywhere becomes a rejection; `next()` runs once at most.
 */
export function runChain<T>(
  layers: readonly Layer<T>[],
  value: T,
  last: (value: T) => unknown,
  where: string,
): Promise<unknown> {
  let reached = -1;
  const step = (index: number): Promise<unknown> => {
    if (index <= reached)
      return Promise.reject(new Error(`a middleware of ${where} called next() twice`));
    reached = index;
    try {
      const layer = layers[index];
      return Promise.resolve(layer ? layer(value, () => step(index + 1)) : last(value));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  };
  return step(0);
}
