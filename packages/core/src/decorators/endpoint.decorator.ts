import type { EndpointOptions } from '../metadata/handler-options';
import { handlerDecorator } from './handler.decorator';

/**
 * A request-response endpoint in the sense of the NATS Service API: requests on `subject` are
 * answered on their reply inbox with the method's return value (JSON, or bytes when it returns a
 * `Uint8Array`); a thrown `ServiceError` becomes an error reply. Joins queue group `q` by default.
 */
export function Endpoint(subject: string, options: EndpointOptions = {}): MethodDecorator {
  return handlerDecorator('endpoint', 'Endpoint', subject, options);
}
