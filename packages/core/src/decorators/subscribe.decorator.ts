import type { SubscribeOptions } from '../metadata/handler-options';
import { handlerDecorator } from './handler.decorator';

/**
 * Handles events published on `subject` (wildcards `*` and `>` allowed). The method receives the
 * decoded payload and a `MessageContext`; its return value is ignored. By default the handler
 * joins the queue group named after its service, so each service gets one copy of an event and
 * its instances share the load; `queue: false` gives every instance every event.
 */
export function Subscribe(subject: string, options: SubscribeOptions = {}): MethodDecorator {
  return handlerDecorator('event', 'Subscribe', subject, options);
}
