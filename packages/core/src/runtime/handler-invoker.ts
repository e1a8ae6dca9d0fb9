import type { HandlerDefinition } from '../discovery/handler-definition';
import { BadRequestError, type ServiceError } from '../errors';
import { jsonCodec } from '../transport/json.codec';
import { toServiceError } from './error-codec';
import { emptyStats, type HandlerStats } from './handler-stats';
import { currentContext, type ContextEnvironment, type HandlerContext } from './message-context';

type HandlerMethod = (payload: unknown, ctx: HandlerContext) => unknown;

/** Called once per message with the handler's outcome: an error, or its return value. */
export type OutcomeCallback = (ctx: HandlerContext, error: unknown, value: unknown) => void;

/**
 * Runs one handler method for a message, whatever feeds it (a core subscription, a JetStream
 * pull): decodes the body (malformed JSON fails as 400 without calling the handler), runs the
 * method inside the message's context, and reports the outcome once, sync or async. Keeps the
 * handler's stats.
 */
export class HandlerInvoker {
  readonly stats: HandlerStats = emptyStats();
  private readonly method: HandlerMethod;

  constructor(
    readonly definition: HandlerDefinition,
    instance: object,
    readonly env: ContextEnvironment,
  ) {
    const method = (instance as Record<string, HandlerMethod>)[definition.method] as HandlerMethod;
    this.method = method.bind(instance);
  }

  invoke(ctx: HandlerContext, done: OutcomeCallback): void {
    ctx.startedAt = performance.now();
    let payload: unknown;
    try {
      payload = this.definition.payload === 'raw' ? ctx.data : jsonCodec.decode(ctx.data);
    } catch (err) {
      done(ctx, new BadRequestError((err as Error).message), undefined);
      return;
    }
    let result: unknown;
    try {
      result = currentContext.run(ctx, this.method, payload, ctx);
    } catch (err) {
      done(ctx, err ?? new Error('threw without a reason'), undefined);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => done(ctx, undefined, value),
        (err: unknown) => done(ctx, err ?? new Error('rejected without a reason'), undefined),
      );
    } else {
      done(ctx, undefined, result);
    }
  }

  /** Counts a finished message; returns the caller-facing error when it failed (and logs it). */
  record(ctx: HandlerContext, error: unknown): ServiceError | undefined {
    const stats = this.stats;
    stats.numRequests++;
    stats.processingTimeNs += Math.round((performance.now() - ctx.startedAt) * 1e6);
    if (error === undefined) return undefined;
    const serviceError = toServiceError(error);
    this.recordFailure(serviceError);
    const log = { err: error, status: serviceError.status };
    if (serviceError !== error) ctx.logger.error(log, `${this.where()} failed`);
    else ctx.logger.warn(log, `${this.where()} answered ${serviceError.status}`);
    return serviceError;
  }

  /** Counts a message turned away without running (overload, expired deadline). */
  recordRejected(error: ServiceError): void {
    this.stats.numRequests++;
    this.recordFailure(error);
  }

  /** Counts an error of a message already counted. */
  recordFailure(error: ServiceError): void {
    this.stats.numErrors++;
    this.stats.lastError = `${error.status} ${error.message}`;
  }

  where(): string {
    return `${this.env.serviceName}#${this.definition.method} on '${this.definition.subject}'`;
  }
}
