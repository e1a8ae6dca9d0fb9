import { hostname } from 'node:os';
import {
  Bus,
  Endpoint,
  NotFoundError,
  Service,
  Subscribe,
  type Duration,
  type MessageContext,
} from '@brigade/core';
import {
  KitchenApi,
  priceOf,
  orderEventOptions,
  OrderEvents,
  ORDERS_STREAM,
  type OrderEvent,
  type PaidOrder,
} from '@restaurant/contracts';

/** Which kitchen this is and how long a dish takes, from the environment. */
export const kitchenSettings = {
  /** `KITCHEN_ID`, else the host name (unique per container) and the process id. */
  id: process.env['KITCHEN_ID'] ?? `${hostname()}-${process.pid}`,
  /** `COOK_MS_PER_DISH`: simulated cooking time per dish, in ms. Default: 1,500. */
  msPerDish: Number(process.env['COOK_MS_PER_DISH'] ?? 1_500),
  /** `COOK_ATTEMPTS`: tries of an order before it goes to the dead letters. Default: 10. */
  attempts: wholeNumber('COOK_ATTEMPTS', process.env['COOK_ATTEMPTS'], 10),
  /** `COOK_RETRY_BACKOFF`: waits before each retry, comma-separated (`250ms,1s`). Default: 1s,5s,30s. */
  backoff: durations('COOK_RETRY_BACKOFF', process.env['COOK_RETRY_BACKOFF'], ['1s', '5s', '30s']),
};

/**
 * Cooks paid orders, two at a time per instance. Orders come from a durable consumer shared by
 * every kitchen instance: each order is cooked by one kitchen, and an order a crashed kitchen was
 * cooking goes to another after `ackWait`.
 */
@Service({ name: 'kitchen', version: '1.0.0', description: 'Cooks paid orders' })
export class Kitchen {
  private cooking = 0;
  private cooked = 0;

  constructor(private readonly bus: Bus) {}

  /**
   * Anything on orders.paid that is no paid order is dead-lettered by the contract's schema at
   * once. A dish the kitchen has no recipe for fails and is retried (a kitchen that knows it may
   * be rolled out meanwhile), then dead-lettered for an administrator to handle.
   */
  @Subscribe(OrderEvents.paid, {
    durable: {
      stream: ORDERS_STREAM.name,
      ackWait: '10s',
      maxDeliver: kitchenSettings.attempts,
      backoff: kitchenSettings.backoff,
    },
    concurrency: 2,
  })
  async cook(order: PaidOrder, ctx: MessageContext): Promise<void> {
    const kitchen = kitchenSettings.id;
    const unknown = order.items.find((line) => priceOf(line.dish) === undefined);
    if (unknown) throw new NotFoundError(`no recipe for '${unknown.dish}' in ${kitchen}`);
    this.cooking++;
    try {
      await this.bus.publish(
        OrderEvents.cooking,
        event(order.id, kitchen),
        orderEventOptions(order.id, `cooking-${order.id}-${kitchen}`),
      );
      const dishes = order.items.reduce((n, line) => n + line.quantity, 0);
      ctx.logger.info({ order: order.id, dishes, attempt: ctx.deliveryCount }, 'cooking');
      await sleep(dishes * kitchenSettings.msPerDish, ctx.signal);
      await this.bus.publish(
        OrderEvents.cooked,
        event(order.id, kitchen),
        orderEventOptions(order.id, `cooked-${order.id}`),
      );
      this.cooked++;
    } finally {
      this.cooking--;
    }
  }

  /** Every kitchen answers (no queue group): ask with requestMany to see them all. */
  @Endpoint(KitchenApi.status, { queue: false })
  status(): { kitchen: string; cooking: number; cooked: number } {
    return { kitchen: kitchenSettings.id, cooking: this.cooking, cooked: this.cooked };
  }
}

function wholeNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a whole number, got '${value}'`);
  return n;
}

function durations(name: string, value: string | undefined, fallback: Duration[]): Duration[] {
  if (value === undefined || value === '') return fallback;
  const parts = value.split(',').map((part) => part.trim());
  if (!parts.every((part) => /^\d+(ms|s|m)$/.test(part)))
    throw new Error(`${name} takes durations like 250ms,1s,5s; got '${value}'`);
  return parts;
}

function event(id: string, kitchen: string): OrderEvent {
  return { id, kitchen, at: new Date().toISOString() };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}
