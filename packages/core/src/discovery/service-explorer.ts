import { DefinitionError, isOutage } from '../common/errors';
import type {
  BreakerOptions,
  DurableOptions,
  HandlerRecord,
  PayloadEncoding,
  QueueGroupOption,
  ServiceOptions,
} from '../metadata/handler-options';
import { isSchema } from '../common/schema';
import { MAX_TIMER_MS, parseDuration } from '../common/duration';
import { middlewareProblem } from '../common/middleware';
import { readHandlerRecords, readServiceOptions } from '../metadata/metadata-store';
import { assertConstructorMetadata } from '../metadata/reflect-guard';
import {
  DEFAULT_ENDPOINT_QUEUE,
  DEFAULT_HANDLER_LIMITS,
  DURABLE_DEFAULTS,
  TIMEOUT_DEFAULTS,
  type BreakerDefinition,
  type DurableDefinition,
  type HandlerDefaults,
  type HandlerDefinition,
  type OrderKey,
  type ServiceClass,
  type ServiceDefinition,
} from './handler-definition';
import {
  metadataProblem,
  nameProblem,
  positiveIntegerProblem,
  queueGroupProblem,
  subjectProblem,
  versionProblem,
} from '../common/naming-rules';

/**
 * Turns the listed classes into frozen service definitions, validating everything a message
 * would otherwise trip over later. Throws a `DefinitionError` naming the class, method and value.
 */
export function exploreServices(
  classes: readonly unknown[],
  defaults: HandlerDefaults = DEFAULT_HANDLER_LIMITS,
): readonly ServiceDefinition[] {
  if (!Array.isArray(classes) || classes.length === 0) {
    throw new DefinitionError(
      'no services to start: pass at least one @Service class in `services`',
    );
  }
  const definitions = classes.map((c, i) => exploreService(c, i, defaults));
  const byName = new Map<string, ServiceDefinition>();
  for (const d of definitions) {
    const other = byName.get(d.name);
    if (other) {
      throw new DefinitionError(
        `${d.target.name} and ${other.target.name} are both named service '${d.name}': one app runs one service of a name`,
      );
    }
    byName.set(d.name, d);
  }
  return Object.freeze(definitions);
}

function exploreService(
  candidate: unknown,
  index: number,
  defaults: HandlerDefaults,
): ServiceDefinition {
  if (typeof candidate !== 'function') {
    throw new DefinitionError(
      `services[${index}] is ${describe(candidate)}, not a class decorated with @Service`,
    );
  }
  const target = candidate as ServiceClass;
  const options = readServiceOptions(target);
  if (!options) {
    throw new DefinitionError(
      `${target.name || `services[${index}]`} is listed in services but has no @Service decorator`,
    );
  }
  const where = `${target.name} (@Service '${String(options.name)}')`;
  check(where, 'name', options.name, nameProblem(options.name));
  const version = options.version ?? '0.0.0';
  check(where, 'version', version, versionProblem(version));
  check(where, 'metadata', options.metadata, metadataProblem(options.metadata));
  if (options.queue !== undefined)
    check(where, 'queue', options.queue, queueGroupProblem(options.queue));
  check(where, 'concurrency', options.concurrency, positiveIntegerProblem(options.concurrency));
  check(where, 'maxPending', options.maxPending, positiveIntegerProblem(options.maxPending));
  check(where, 'middleware', options.middleware, middlewareProblem(options.middleware));
  if (options.timeout !== undefined) timeout(where, 'timeout', options.timeout);
  if (options.timeoutGrace !== undefined) duration(where, 'timeoutGrace', options.timeoutGrace);
  assertConstructorMetadata(target);

  const serviceDefaults: HandlerDefaults = {
    concurrency: options.concurrency ?? defaults.concurrency,
    maxPending: options.maxPending ?? defaults.maxPending,
  };
  const handlers = readHandlerRecords(target).map((r) =>
    defineHandler(target, options, r, serviceDefaults),
  );
  assertUnique(target, handlers);
  return Object.freeze({
    target,
    name: options.name,
    version,
    description: options.description ?? '',
    metadata: Object.freeze({ ...options.metadata }),
    handlers: Object.freeze(handlers),
  });
}

function defineHandler(
  target: ServiceClass,
  service: ServiceOptions,
  record: HandlerRecord,
  defaults: HandlerDefaults,
): HandlerDefinition {
  const decorator = record.kind === 'endpoint' ? '@Endpoint' : '@Subscribe';
  const where = `${target.name}.${record.method} (${decorator} '${String(record.subject)}')`;
  const { options } = record;
  if (typeof (target.prototype as Record<string, unknown>)[record.method] !== 'function') {
    throw new DefinitionError(`${where}: ${record.method} is not a method`);
  }
  check(where, 'subject', record.subject, subjectProblem(record.subject));
  const name = options.name ?? record.method;
  check(where, 'name', name, nameProblem(name));
  if (options.queue !== undefined)
    check(where, 'queue', options.queue, queueGroupProblem(options.queue));
  check(where, 'concurrency', options.concurrency, positiveIntegerProblem(options.concurrency));
  check(where, 'maxPending', options.maxPending, positiveIntegerProblem(options.maxPending));
  check(where, 'metadata', options.metadata, metadataProblem(options.metadata));
  check(where, 'middleware', options.middleware, middlewareProblem(options.middleware));
  const payload = options.payload ?? 'json';
  if (payload !== 'json' && payload !== 'raw') {
    check(where, 'payload', payload, "payload must be 'json' or 'raw'");
  }
  return Object.freeze({
    kind: record.kind,
    name,
    method: record.method,
    subject: record.subject,
    queue: options.durable === undefined ? resolveQueue(options.queue, service, record) : undefined,
    concurrency: options.concurrency ?? defaults.concurrency,
    maxPending: options.maxPending ?? defaults.maxPending,
    timeoutMs: timeout(
      where,
      'timeout',
      options.timeout ??
        service.timeout ??
        (options.durable === undefined
          ? TIMEOUT_DEFAULTS.timeout
          : TIMEOUT_DEFAULTS.durableTimeout),
    ),
    timeoutGraceMs: duration(
      where,
      'timeoutGrace',
      options.timeoutGrace ?? service.timeoutGrace ?? TIMEOUT_DEFAULTS.timeoutGrace,
    ),
    payload,
    metadata: Object.freeze({ ...options.metadata }),
    durable:
      options.durable === undefined ? undefined : defineDurable(where, service.name, name, record),
    middleware: Object.freeze([...(service.middleware ?? []), ...(options.middleware ?? [])]),
    ...defineSchemas(where, record, payload),
  });
}

/** The handler's schemas: `request`/`response` for an endpoint, `schema` for an event. */
function defineSchemas(
  where: string,
  record: HandlerRecord,
  payload: PayloadEncoding,
): Pick<HandlerDefinition, 'input' | 'output'> {
  const { options } = record;
  const allowed = record.kind === 'endpoint' ? ['request', 'response'] : ['schema'];
  for (const field of ['request', 'response', 'schema'] as const) {
    const value = options[field];
    if (value === undefined) continue;
    if (!allowed.includes(field))
      throw new DefinitionError(
        `${where}: '${field}' is for ${field === 'schema' ? '@Subscribe' : '@Endpoint'}; use ${allowed.map((a) => `'${a}'`).join(' or ')}`,
      );
    check(
      where,
      field,
      value,
      isSchema(value) ? undefined : 'must be a Standard Schema (zod 4, valibot 1, arktype 2, ...)',
    );
  }
  const input = record.kind === 'endpoint' ? options.request : options.schema;
  if (input !== undefined && payload === 'raw')
    throw new DefinitionError(`${where}: a schema checks JSON payloads; drop it or payload: 'raw'`);
  const output = record.kind === 'endpoint' ? options.response : undefined;
  // Only what is there: a handler without schemas is defined as it was before schemas existed.
  return { ...(input && { input }), ...(output && { output }) };
}

function defineDurable(
  where: string,
  serviceName: string,
  handlerName: string,
  record: HandlerRecord,
): DurableDefinition {
  const durable = record.options.durable as DurableOptions;
  if (record.kind !== 'event')
    throw new DefinitionError(`${where}: only @Subscribe handlers can be durable`);
  if (typeof durable !== 'object' || durable === null) {
    throw new DefinitionError(
      `${where}: invalid durable ${describe(durable)}: give at least { stream }`,
    );
  }
  if (record.options.queue !== undefined) {
    throw new DefinitionError(
      `${where}: a durable handler's instances share one JetStream consumer, not a queue group: remove \`queue\``,
    );
  }
  check(where, 'durable.stream', durable.stream, nameProblem(durable.stream));
  const consumer = durable.consumer ?? `${serviceName}_${handlerName}`;
  check(where, 'durable.consumer', consumer, nameProblem(consumer));
  const maxDeliver = durable.maxDeliver ?? DURABLE_DEFAULTS.maxDeliver;
  check(where, 'durable.maxDeliver', maxDeliver, positiveIntegerProblem(maxDeliver));
  const maxAckPending = durable.maxAckPending ?? DURABLE_DEFAULTS.maxAckPending;
  check(where, 'durable.maxAckPending', maxAckPending, positiveIntegerProblem(maxAckPending));
  const backoff = durable.backoff ?? DURABLE_DEFAULTS.backoff;
  if (!Array.isArray(backoff) || backoff.length === 0) {
    check(where, 'durable.backoff', backoff, 'backoff is a non-empty list of durations');
  }
  const backoffMs = backoff.map((d, i) => duration(where, `durable.backoff[${i}]`, d));
  const ackWaitMs = duration(where, 'durable.ackWait', durable.ackWait ?? DURABLE_DEFAULTS.ackWait);
  if (ackWaitMs < 1_000)
    check(where, 'durable.ackWait', durable.ackWait, 'ackWait must be at least 1s');
  return Object.freeze({
    stream: durable.stream,
    consumer,
    maxDeliver,
    backoffMs: Object.freeze(backoffMs),
    ackWaitMs,
    maxAckPending,
    orderBy: defineOrderKey(where, durable.orderBy, record.subject),
    breaker: defineBreaker(where, durable.breaker),
  });
}

function defineBreaker(where: string, option: unknown): BreakerDefinition | undefined {
  if (option === undefined) return undefined;
  if (typeof option !== 'object' || option === null)
    throw new DefinitionError(
      `${where}: invalid durable.breaker ${describe(option)}: give { failures, within, pause, when }, each optional`,
    );
  const given = option as BreakerOptions;
  const defaults = DURABLE_DEFAULTS.breaker;
  const failures = given.failures ?? defaults.failures;
  check(where, 'durable.breaker.failures', failures, positiveIntegerProblem(failures));
  const withinMs = duration(where, 'durable.breaker.within', given.within ?? defaults.within);
  const pauseMs = duration(where, 'durable.breaker.pause', given.pause ?? defaults.pause);
  if (withinMs <= 0) check(where, 'durable.breaker.within', given.within, 'within must be over 0');
  if (pauseMs < 1_000 || pauseMs > MAX_TIMER_MS)
    check(where, 'durable.breaker.pause', given.pause, 'pause must be at least 1s');
  if (given.when !== undefined && typeof given.when !== 'function')
    check(where, 'durable.breaker.when', given.when, 'when is a function of the error');
  return Object.freeze({ failures, withinMs, pauseMs, counts: given.when ?? isOutage });
}

function defineOrderKey(where: string, option: unknown, subject: string): OrderKey | undefined {
  if (option === undefined) return undefined;
  const fail = (problem: string): never => {
    throw new DefinitionError(`${where}: invalid durable.orderBy ${describe(option)}: ${problem}`);
  };
  const { subjectToken, header } = (
    typeof option === 'object' && option !== null ? option : {}
  ) as { subjectToken?: unknown; header?: unknown };
  if ((subjectToken === undefined) === (header === undefined))
    return fail('give { subjectToken: n } or { header: name }');
  if (header !== undefined) {
    if (typeof header !== 'string' || !/^[!-9;-~]+$/.test(header))
      return fail('a header name is printable ASCII without spaces or colons');
    return Object.freeze({ kind: 'header', name: header });
  }
  const tokens = subject.split('.');
  if (typeof subjectToken !== 'number' || !Number.isInteger(subjectToken) || subjectToken < 0)
    return fail('subjectToken is the index of a subject token, 0 for the first');
  if (tokens[tokens.length - 1] !== '>' && subjectToken >= tokens.length)
    return fail(`'${subject}' has only ${tokens.length} tokens`);
  return Object.freeze({ kind: 'subject-token', index: subjectToken });
}

/** A handler timeout: a duration over 0 that a timer can wait. */
function timeout(where: string, field: string, value: unknown): number {
  const ms = duration(where, field, value);
  if (ms <= 0 || ms > MAX_TIMER_MS)
    throw new DefinitionError(
      `${where}: invalid ${field} ${describe(value)}: a timeout is over 0 and at most ${MAX_TIMER_MS} ms (about 24.8 days)`,
    );
  return ms;
}

function duration(where: string, field: string, value: unknown): number {
  const ms = parseDuration(value);
  if (typeof ms === 'string')
    throw new DefinitionError(`${where}: invalid ${field} ${describe(value)}: ${ms}`);
  return ms;
}

/** The one queue group rule: the handler's option, else the service's, else the kind's default. */
function resolveQueue(
  own: QueueGroupOption | undefined,
  service: ServiceOptions,
  record: HandlerRecord,
): string | undefined {
  const chosen =
    own ?? service.queue ?? (record.kind === 'endpoint' ? DEFAULT_ENDPOINT_QUEUE : service.name);
  return chosen === false ? undefined : chosen;
}

function assertUnique(target: ServiceClass, handlers: HandlerDefinition[]): void {
  const bindings = new Map<string, HandlerDefinition>();
  const names = new Map<string, HandlerDefinition>();
  for (const h of handlers) {
    const binding = h.durable
      ? `durable\u0000${h.durable.stream}\u0000${h.durable.consumer}`
      : `${h.subject}\u0000${h.queue ?? ''}`;
    const sameBinding = bindings.get(binding);
    if (sameBinding) {
      const shared = h.durable
        ? `read stream '${h.durable.stream}' through consumer '${h.durable.consumer}'`
        : `handle '${h.subject}' in ${h.queue === undefined ? 'no queue group' : `queue group '${h.queue}'`}`;
      throw new DefinitionError(
        `${target.name}.${h.method} and ${target.name}.${sameBinding.method} both ${shared}: ` +
          'give one of them another subject, queue group or consumer',
      );
    }
    bindings.set(binding, h);
    const sameName = names.get(h.name);
    if (sameName) {
      throw new DefinitionError(
        `${target.name}.${h.method} and ${target.name}.${sameName.method} share the handler name '${h.name}': set a distinct \`name\``,
      );
    }
    names.set(h.name, h);
  }
}

function check(where: string, field: string, value: unknown, problem: string | undefined): void {
  if (problem !== undefined) {
    throw new DefinitionError(`${where}: invalid ${field} ${describe(value)}: ${problem}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'function') return `function ${value.name}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
