import type { HandlerKind } from '../common/middleware';
import type { SubscribeOptions } from '../metadata/handler-options';
import { assertReflectMetadata } from '../metadata/reflect-guard';
import { appendHandlerRecord } from '../metadata/metadata-store';
import { DefinitionError } from '../common/errors';

/** Shared body of `@Subscribe` and `@Endpoint`: records the method, validates nothing yet. */
export function handlerDecorator(
  kind: HandlerKind,
  decoratorName: string,
  subject: string,
  options: SubscribeOptions,
): MethodDecorator {
  assertReflectMetadata();
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
