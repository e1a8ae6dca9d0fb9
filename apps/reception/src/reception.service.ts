import { Bus, PermanentError, Service, Subscribe, type MessageContext } from '@brigade/core';
import { orderEventOptions, ORDERS_STREAM, Subjects, type OrderEvent } from '@restaurant/contracts';

/** Receives cooked orders from the kitchen and marks them served. */
@Service({ name: 'reception', version: '1.0.0', description: 'Takes orders and serves them' })
export class Reception {
  constructor(private readonly bus: Bus) {}

  @Subscribe(Subjects.cooked, { durable: { stream: ORDERS_STREAM.name } })
  async serve(cooked: OrderEvent, ctx: MessageContext): Promise<void> {
    if (typeof cooked?.id !== 'string') throw new PermanentError('not an order event');
    const served: OrderEvent = { id: cooked.id, at: new Date().toISOString() };
    await this.bus.publish(
      Subjects.served,
      served,
      orderEventOptions(cooked.id, `served-${cooked.id}`),
    );
    ctx.logger.info({ order: cooked.id, cookedBy: cooked.kitchen }, 'order served');
  }
}
