import { Bus, Service, Subscribe, type MessageContext } from '@brigade/core';
import {
  orderEventOptions,
  OrderEvents,
  ORDERS_STREAM,
  type OrderEvent,
} from '@restaurant/contracts';

/** Receives cooked orders from the kitchen and marks them served. */
@Service({ name: 'reception', version: '1.0.0', description: 'Takes orders and serves them' })
export class Reception {
  constructor(private readonly bus: Bus) {}

  @Subscribe(OrderEvents.cooked, { durable: { stream: ORDERS_STREAM.name } })
  async serve(cooked: OrderEvent, ctx: MessageContext): Promise<void> {
    const served: OrderEvent = { id: cooked.id, at: new Date().toISOString() };
    await this.bus.publish(
      OrderEvents.served,
      served,
      orderEventOptions(cooked.id, `served-${cooked.id}`),
    );
    ctx.logger.info({ order: cooked.id, cookedBy: cooked.kitchen }, 'order served');
  }
}
