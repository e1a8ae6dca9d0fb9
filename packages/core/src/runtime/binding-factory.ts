import type { DependencyContainer } from 'tsyringe';
import type { ServiceDefinition } from '../discovery/handler-definition';
import { DefinitionError } from '../common/errors';
import { DurableBinding } from './durable-binding';
import type { DurableSetup } from '../jetstream/jetstream-setup';
import type { NatsTransport } from '../transport/nats-transport';
import { CoreBinding, type Binding } from './handler-binding';
import { HandlerInvoker } from './handler-invoker';
import type { Logger } from '../common/logger';
import type { Middleware } from '../common/middleware';
import type { Telemetry } from './telemetry';

/**
 * Resolves each service from the container and makes one binding per handler: a core
 * subscription, or a durable consumer together with its dead-letter backstop.
 */
export function createBindings(
  services: readonly ServiceDefinition[],
  scope: DependencyContainer,
  transport: NatsTransport,
  durable: DurableSetup | undefined,
  shared: { logger: Logger; shutdownSignal: AbortSignal },
  middleware: readonly Middleware[] = [],
  telemetry: Telemetry = {},
): { bindings: Binding[]; backstops: Binding[]; instances: Map<ServiceDefinition, object> } {
  const bindings: Binding[] = [];
  const backstops: Binding[] = [];
  const instances = new Map<ServiceDefinition, object>();
  for (const service of services) {
    const instance = resolveService(scope, service);
    instances.set(service, instance);
    const env = { serviceName: service.name, ...shared };
    for (const handler of service.handlers) {
      const invoker = new HandlerInvoker(handler, instance, env, middleware, telemetry);
      const backstop = durable?.backstops.get(handler);
      if (!durable || !backstop) {
        bindings.push(new CoreBinding(invoker, transport));
        continue;
      }
      bindings.push(new DurableBinding(invoker, durable.context, durable.writer));
      const rescuer = new HandlerInvoker(backstop, durable.backstop, env);
      backstops.push(new DurableBinding(rescuer, durable.context, durable.writer));
    }
  }
  return { bindings, backstops, instances };
}

function resolveService(scope: DependencyContainer, service: ServiceDefinition): object {
  try {
    return scope.resolve(service.target as unknown as new () => object);
  } catch (cause) {
    throw new DefinitionError(
      `cannot construct ${service.target.name} (service '${service.name}'): ${(cause as Error).message}`,
      { cause },
    );
  }
}
