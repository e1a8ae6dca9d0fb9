import { Bus, Service, Subscribe, type MessageContext } from '@brigade/core';
import {
  OrderApi,
  orderEventOptions,
  OrderEvents,
  ORDERS_STREAM,
  statusOf,
  type OrderEvent,
} from '@restaurant/contracts';
import { OrderBoard } from './order-board';

/** How long reception waits for the order service to describe an order for the page. */
const DESCRIBE_MS = 2_000;

/** Receives cooked orders from the kitchen and marks them served; follows orders for its page. */
@Service({ name: 'reception', version: '1.0.0', description: 'Takes orders and serves them' })
export class Reception {
  constructor(
    private readonly bus: Bus,
    private readonly board: OrderBoard,
  ) {}

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

  /**
   * Every order event, in every reception instance (no queue group): the live page's feed. An
   * order first heard of is described by the order service (customer, dishes, total).
   */
  @Subscribe(OrderEvents.any, { queue: false })
  async follow(event: OrderEvent, ctx: MessageContext): Promise<void> {
    const isNew = !this.board.knows(event.id);
    if (ctx.subject === OrderEvents.late.subject) this.board.late(event);
    else {
      const status = statusOf(ctx.subject);
      if (!status) return;
      this.board.record(status, event);
    }
    if (!isNew) return;
    try {
      const order = await this.bus.request(
        OrderApi.get,
        { id: event.id },
        { timeout: DESCRIBE_MS },
      );
      this.board.describe(order);
    } catch (err) {
      // The page shows the order without its details; its steps still arrive.
      ctx.logger.warn({ err, order: event.id }, 'could not describe the order for the page');
    }
  }
}
