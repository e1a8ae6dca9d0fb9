import type { EndpointContract, HandledRequestOf, ReplyOf } from '../common/contract';
import type { MessageContext } from '../common/message-context';
import type { EndpointOptions } from '../metadata/handler-options';
import { handlerDecorator, type EntryDecorator } from './handler.decorator';

/**
 * A request-response endpoint in the sense of the NATS Service API: requests on `subject` are
 * answered on their reply inbox with the method's return value (JSON, or bytes when it returns a
 * `Uint8Array`); a thrown `ServiceError` becomes an error reply. Joins queue group `q` by default.
 *
 * Bound to a contract entry (`@Endpoint(Kitchen.status)`), it takes the entry's subject and
 * schemas, and the method's request and reply types must match them.
 */
export function Endpoint(subject: string, options?: EndpointOptions): MethodDecorator;
export function Endpoint<E extends EndpointContract>(
  entry: E,
  options?: Omit<EndpointOptions, 'request' | 'response'>,
): EntryDecorator<
  (request: HandledRequestOf<E>, ctx: MessageContext) => ReplyOf<E> | Promise<ReplyOf<E>>
>;
export function Endpoint(
  target: string | EndpointContract,
  options: EndpointOptions = {},
): MethodDecorator {
  return handlerDecorator('endpoint', 'Endpoint', target, options);
}
