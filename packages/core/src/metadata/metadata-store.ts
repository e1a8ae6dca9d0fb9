import type {} from 'reflect-metadata';
import type { HandlerRecord, ServiceOptions } from './handler-options';

// Metadata lives on the decorated class itself (through reflect-metadata), never in a global map.
const SERVICE_KEY = 'brigade:service';
const HANDLERS_KEY = 'brigade:handlers';

type Constructor = abstract new (...args: never[]) => unknown;

export function writeServiceOptions(target: Constructor, options: ServiceOptions): void {
  Reflect.defineMetadata(SERVICE_KEY, Object.freeze({ ...options }), target);
}

export function readServiceOptions(target: Constructor): ServiceOptions | undefined {
  return Reflect.getOwnMetadata(SERVICE_KEY, target) as ServiceOptions | undefined;
}

export function appendHandlerRecord(target: Constructor, record: HandlerRecord): void {
  const own = (Reflect.getOwnMetadata(HANDLERS_KEY, target) as HandlerRecord[] | undefined) ?? [];
  Reflect.defineMetadata(HANDLERS_KEY, [...own, Object.freeze(record)], target);
}

/**
 * The handler records of a class and of the classes it extends, base first. A method overridden
 * in a subclass keeps only the subclass's records.
 */
export function readHandlerRecords(target: Constructor): HandlerRecord[] {
  const chain: Constructor[] = [];
  for (let c: unknown = target; typeof c === 'function' && c !== Function.prototype;) {
    chain.unshift(c as Constructor);
    c = Object.getPrototypeOf(c);
  }
  const byMethod = new Map<string, HandlerRecord[]>();
  for (const c of chain) {
    const own = (Reflect.getOwnMetadata(HANDLERS_KEY, c) as HandlerRecord[] | undefined) ?? [];
    const overridden = new Set(own.map((r) => r.method));
    for (const method of overridden) byMethod.delete(method);
    for (const r of own) byMethod.set(r.method, [...(byMethod.get(r.method) ?? []), r]);
  }
  return [...byMethod.values()].flat();
}
