import { injectable } from 'tsyringe';
import type { ServiceOptions } from '../metadata/handler-options';
import { assertReflectMetadata } from '../metadata/reflect-guard';
import { writeServiceOptions } from '../metadata/metadata-store';

/**
 * Marks a class as a Brigade service. Its `@Subscribe` and `@Endpoint` methods are bound to NATS
 * when an app listing the class starts; its constructor parameters are injected by tsyringe.
 * Records only: nothing connects or subscribes until `Brigade.start()`.
 */
export function Service(options: ServiceOptions): ClassDecorator {
  assertReflectMetadata();
  return (target) => {
    writeServiceOptions(target as unknown as abstract new () => unknown, options);
    injectable()(target as unknown as new (...args: unknown[]) => unknown);
  };
}
