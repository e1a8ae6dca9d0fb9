import type { EventContract, HandledEventOf } from '../common/contract';
import type { MessageContext } from '../common/message-context';
import type { SubscribeOptions } from '../metadata/handler-options';
import { handlerDecorator, type EntryDecorator } from './handler.decorator';

/**
 * Handles events published on `subject` (wildcards `*` and `>` allowed). The method receives the
 * decoded payload and a `MessageContext`; its return value is ignored. By default the handler
 * joins the queue group named after its service, so each service gets one copy of an event and
 * its instances share the load; `queue: false` gives every instance every event.
 *
 * Bound to a contract entry (`@Subscribe(Orders.placed)`), it takes the entry's subject and
 * payload schema, and the method's payload type must match it.
 */
export function Subscribe(subject: string, options?: SubscribeOptions): MethodDecorator;
export function Subscribe<E extends EventContract>(
  entry: E,
  options?: Omit<SubscribeOptions, 'schema'>,
): EntryDecorator<(event: HandledEventOf<E>, ctx: MessageContext) => unknown>;
export function Subscribe(
  target: string | EventContract,
  options: SubscribeOptions = {},
): MethodDecorator {
  return handlerDecorator('event', 'Subscribe', target, options);
}
