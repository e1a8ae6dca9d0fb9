import type { ContractEntry } from '../common/contract';
import type { HandlerKind } from '../common/middleware';
import type { EndpointOptions, SubscribeOptions } from '../metadata/handler-options';
import { assertReflectMetadata } from '../metadata/reflect-guard';
import { appendHandlerRecord } from '../metadata/metadata-store';
import { DefinitionError } from '../common/errors';

/**
 * A decorator for a handler bound to a contract entry: it accepts only a method of type `M`, so
 * a request, event or reply type that does not match the entry's schemas fails to compile.
 */
export type EntryDecorator<M> = (
  target: object,
  propertyKey: string | symbol,
  // Only the value, read: a method is accepted when it is assignable to `M`.
  descriptor: { readonly value?: M },
) => void;

/** Shared body of `@Subscribe` and `@Endpoint`: records the method, validates nothing yet. */
export function handlerDecorator(
  kind: HandlerKind,
  decoratorName: string,
  target: string | ContractEntry,
  given: SubscribeOptions & EndpointOptions,
): MethodDecorator {
  assertReflectMetadata();
  const { subject, options } = bind(kind, decoratorName, target, given);
  return (target, propertyKey) => {
    const owner = typeof target === 'function' ? target.name : target.constructor.name;
    if (typeof target === 'function') {
      throw new DefinitionError(
        `@${decoratorName} on static ${owner}.${String(propertyKey)}: decorate an instance method`,
      );
    }
    if (typeof propertyKey === 'symbol') {
      throw new DefinitionError(
        `@${decoratorName} on ${owner}[${String(propertyKey)}]: handler methods need a string name`,
      );
    }
    appendHandlerRecord(target.constructor as abstract new () => unknown, {
      kind,
      method: propertyKey,
      subject,
      options: { ...options },
    });
  };
}

/** The subject and options of a handler: given as they are, or taken from a contract entry. */
function bind(
  kind: HandlerKind,
  decoratorName: string,
  target: string | ContractEntry,
  options: SubscribeOptions & EndpointOptions,
): { subject: string; options: SubscribeOptions & EndpointOptions } {
  if (typeof target === 'string') return { subject: target, options };
  if (target?.kind !== kind)
    throw new DefinitionError(
      `@${decoratorName} takes a subject or ${kind === 'endpoint' ? 'an endpoint()' : 'an event()'} contract entry, got ${target?.kind ? `an ${target.kind}() entry` : String(target)}`,
    );
  const schemas =
    target.kind === 'endpoint'
      ? { request: target.request, response: target.response }
      : { schema: target.payload };
  for (const field of Object.keys(schemas))
    if ((options as Record<string, unknown>)[field] !== undefined)
      throw new DefinitionError(
        `@${decoratorName}('${target.subject}'): the contract entry gives the ${field} schema; do not give it again`,
      );
  return { subject: target.subject, options: { ...options, ...schemas } };
}
