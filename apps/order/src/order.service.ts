import { randomUUID } from 'node:crypto';
import {
  Bus,
  ConflictError,
  Endpoint,
  KeyValueStores,
  NotFoundError,
  Schedules,
  Service,
  Subscribe,
  type KeyValueBucket,
  type MessageContext,
  type OnStart,
} from '@brigade/core';
import {
  isLater,
  ORDER_ID_HEADER,
  OrderApi,
  orderEventOptions,
  OrderEvents,
  ORDERS_BUCKET,
  ORDERS_STREAM,
  orderLateAfter,
  priceOf,
  statusOf,
  type NewOrder,
  type Order,
  type OrderEvent,
} from '@restaurant/contracts';

const MAX_WRITE_ATTEMPTS = 10;
/** How long a write whose answer was lost may still land: past a JetStream leader election. */
const UNKNOWN_WRITE_GRACE_MS = 15_000;

/** Owns the state of every order: created on request, moved forward by the order events. */
@Service({
  name: 'order',
  version: '1.0.0',
  description: 'Owns order state; follows each order through its events',
})
export class OrderService implements OnStart {
  private bucket: KeyValueBucket<Order> | undefined;
  /** Whether orders get a late check: the ORDERS stream takes schedules on this server. */
  private lateChecks = false;
  private readonly lateAfter = orderLateAfter();

  constructor(
    private readonly bus: Bus,
    private readonly stores: KeyValueStores,
    private readonly schedules: Schedules,
  ) {}

  /**
   * Opens (or creates) the bucket before any handler takes a message, and sees whether late
   * checks can be scheduled here (Brigade said why not at start, where they cannot).
   */
  async onStart(): Promise<void> {
    this.bucket = await this.stores.open<Order>(ORDERS_BUCKET.name, ORDERS_BUCKET);
    this.lateChecks = await this.schedules.accepts(OrderEvents.lateCheck.subject);
  }

  private get orders(): KeyValueBucket<Order> {
    if (!this.bucket) throw new Error('the orders bucket opens in onStart');
    return this.bucket;
  }

  /** The contract's schema checked the order before it got here (else 422 with the issues). */
  @Endpoint(OrderApi.create)
  async create({ customer, items }: NewOrder, ctx: MessageContext): Promise<Order> {
    const now = new Date().toISOString();
    const order: Order = {
      id: randomUUID().slice(0, 8),
      customer,
      items,
      total: items.reduce((sum, line) => sum + (priceOf(line.dish) ?? 0) * line.quantity, 0),
      status: 'placed',
      history: [{ status: 'placed', at: now }],
    };
    await this.orders.create(order.id, order);
    const event: OrderEvent = { id: order.id, at: now };
    await this.bus.publish(
      OrderEvents.placed,
      event,
      orderEventOptions(order.id, `placed-${order.id}`),
    );
    if (this.lateChecks) await this.scheduleLateCheck(event, ctx);
    ctx.logger.info({ order: order.id, total: order.total }, 'order placed');
    return order;
  }

  /** Asks the server to publish the order's late check `ORDER_LATE_AFTER` from now. */
  private async scheduleLateCheck(placed: OrderEvent, ctx: MessageContext): Promise<void> {
    try {
      await this.schedules.schedule(
        OrderEvents.lateCheck.subject,
        placed,
        { after: this.lateAfter },
        { name: lateCheckName(placed.id), headers: { [ORDER_ID_HEADER]: placed.id } },
      );
    } catch (err) {
      // The order stands: only its late check is missing, and the log says so.
      ctx.logger.warn({ err, order: placed.id }, 'could not schedule the late check');
    }
  }

  @Endpoint(OrderApi.get)
  async get({ id }: { id: string }): Promise<Order> {
    const entry = await this.orders.get(id);
    if (!entry) throw new NotFoundError(`no order '${id}'`);
    return entry.value;
  }

  /**
   * Moves an order forward. Late or repeated events change nothing. One order's events are taken
   * one after another (other orders' side by side), so two updates of one order never race.
   */
  @Subscribe(OrderEvents.any, {
    durable: {
      stream: ORDERS_STREAM.name,
      consumer: 'order_tracker',
      orderBy: { header: ORDER_ID_HEADER },
    },
  })
  async track(event: OrderEvent, ctx: MessageContext): Promise<void> {
    const status = statusOf(ctx.subject);
    if (!status) return;
    const { written } = await this.change(event.id, (order) => {
      if (!isLater(status, order.status) && order.history.some((h) => h.status === status))
        return undefined;
      return {
        ...order,
        status: isLater(status, order.status) ? status : order.status,
        history: [
          ...order.history,
          { status, at: event.at, ...(event.kitchen ? { by: event.kitchen } : {}) },
        ],
        ...(status === 'cooked' && event.kitchen ? { cookedBy: event.kitchen } : {}),
      };
    });
    if (!written) return;
    ctx.logger.info({ order: event.id, status }, `order ${status}`);
    if (status === 'served' && this.lateChecks) {
      // Served: its late check has nothing left to find (it would find it served all the same).
      await this.schedules
        .cancel(ORDERS_STREAM.name, lateCheckName(event.id))
        .catch((err: unknown) =>
          ctx.logger.warn({ err, order: event.id }, 'could not cancel the late check'),
        );
    }
  }

  /**
   * An order's late check, published by nats-server `ORDER_LATE_AFTER` after the order was
   * placed: an order not served by then is marked late, and everyone is told.
   */
  @Subscribe(OrderEvents.lateCheck, {
    durable: { stream: ORDERS_STREAM.name, consumer: 'order_late_check' },
  })
  async checkLate(check: OrderEvent, ctx: MessageContext): Promise<void> {
    const now = new Date().toISOString();
    const { order } = await this.change(check.id, (current) =>
      current.status === 'served' || current.late ? undefined : { ...current, late: now },
    );
    if (order.late === undefined) return;
    // Published again on a redelivery: the message id keeps it one event.
    await this.bus.publish(
      OrderEvents.late,
      { id: order.id, at: order.late },
      orderEventOptions(order.id, `late-${order.id}`),
    );
    ctx.logger.warn({ order: order.id, after: this.lateAfter, status: order.status }, 'order late');
  }

  /**
   * Writes `change(order)` to the bucket with compare-and-set, reading again when another write
   * came first; `undefined` from `change` leaves the order as it is. Returns the order as it
   * stands, and whether this call wrote it.
   */
  private async change(
    id: string,
    change: (order: Order) => Order | undefined,
  ): Promise<{ order: Order; written: boolean }> {
    const orders = this.orders;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const entry = await orders.get(id);
      // Not there yet would mean the create is still in flight: let JetStream redeliver.
      if (!entry) throw new NotFoundError(`order '${id}' is not known (yet)`);
      const next = change(entry.value);
      if (!next) return { order: entry.value, written: false };
      try {
        await orders.update(id, next, entry.revision);
        return { order: next, written: true };
      } catch (err) {
        // Another write came first: read again. Any other failure (a time-out in a failover)
        // leaves the write's fate unknown: it may still land. Nothing else may write this order
        // until it is known, or a stale compare-and-set could undo it (nats-server 2.9.10 accepts
        // two updates at one revision in a cluster, nats-io/nats-server#4320).
        if (!(err instanceof ConflictError)) await this.outcomeOf(id, entry.revision, err);
      }
    }
    throw new ConflictError(`order '${id}' kept changing; retrying later`);
  }

  /**
   * Waits until a write of `id` against `revision` whose answer was lost has landed (the key moved
   * past `revision`) or surely has not (`UNKNOWN_WRITE_GRACE_MS` later); then the caller reads
   * again. Throws `failure` when the bucket cannot be read for that long.
   */
  private async outcomeOf(id: string, revision: number, failure: unknown): Promise<void> {
    const giveUpAt = Date.now() + UNKNOWN_WRITE_GRACE_MS;
    let readable = false;
    while (Date.now() < giveUpAt) {
      const current = await this.orders.get(id).catch(() => undefined);
      if (current) {
        readable = true;
        if (current.revision > revision) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if (!readable) throw failure;
  }
}

/** The name of an order's late check among the ORDERS stream's schedules. */
function lateCheckName(orderId: string): string {
  return `late-${orderId}`;
}
