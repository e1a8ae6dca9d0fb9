import type { DependencyContainer } from 'tsyringe';
import type { ServiceDefinition } from '../discovery/handler-definition';
import { DefinitionError } from '../common/errors';
import { DurableBinding } from './durable-binding';
import type { DurableSetup } from '../jetstream/jetstream-setup';
import type { NatsTransport } from '../transport/nats-transport';
import type { Binding } from './binding';
import { CoreBinding } from './core-binding';
import { HandlerInvoker } from '../pipeline/handler-invoker';
import type { Logger } from '../common/logger';
import type { StepFactory } from '../pipeline/step';

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
  /** The steps of each handler's pipeline, and of the dead-letter backstops'. */
  steps: { readonly handlers: readonly StepFactory[]; readonly backstops: readonly StepFactory[] },
): { bindings: Binding[]; backstops: Binding[]; instances: Map<ServiceDefinition, object> } {
  const bindings: Binding[] = [];
  const backstops: Binding[] = [];
  const instances = new Map<ServiceDefinition, object>();
  for (const service of services) {
    const instance = resolveService(scope, service);
    instances.set(service, instance);
    const env = { serviceName: service.name, ...shared };
    for (const handler of service.handlers) {
      const invoker = new HandlerInvoker(handler, instance, env, steps.handlers);
      const backstop = durable?.backstops.get(handler);
      if (!durable || !backstop) {
        bindings.push(new CoreBinding(invoker, transport));
        continue;
      }
      bindings.push(new DurableBinding(invoker, durable.context, durable.writer));
      const rescuer = new HandlerInvoker(backstop, durable.backstop, env, steps.backstops);
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
