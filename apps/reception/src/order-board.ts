import { singleton } from '@brigade/core';
import {
  isLater,
  ORDER_STATUSES,
  type Order,
  type OrderEvent,
  type OrderStatus,
} from '@restaurant/contracts';

/** An order as reception's page shows it: who ordered what, and each step it reached. */
export interface BoardOrder {
  readonly id: string;
  customer?: string;
  items?: readonly { readonly dish: string; readonly quantity: number }[];
  total?: number;
  status: OrderStatus;
  /** When its late check found it not served, if it did. */
  late?: string;
  /** When each status was reached; `kitchen` on cooking and cooked. */
  readonly steps: Partial<Record<OrderStatus, { at: string; kitchen?: string }>>;
}

/** The orders the page shows: the latest ones, in the order they were first heard of. */
const KEPT = 50;

/**
 * The latest orders and their progress, fed by the order events this reception instance hears
 * (every instance hears all of them): what reception's live page shows. Bounded: the oldest
 * order is forgotten past `KEPT`.
 */
@singleton()
export class OrderBoard {
  private readonly orders = new Map<string, BoardOrder>();
  private readonly listeners = new Set<(order: BoardOrder) => void>();

  /** Orders heard of, oldest first. */
  recent(): BoardOrder[] {
    return [...this.orders.values()];
  }

  knows(id: string): boolean {
    return this.orders.has(id);
  }

  /** Called with each order that changed; returns the way to stop listening. */
  onChange(listener: (order: BoardOrder) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An order event: a step reached (late or repeated events change only what they add). */
  record(status: OrderStatus, event: OrderEvent): void {
    const order = this.entry(event.id);
    if (order.steps[status]) return;
    order.steps[status] = { at: event.at, ...(event.kitchen ? { kitchen: event.kitchen } : {}) };
    if (isLater(status, order.status)) order.status = status;
    this.changed(order);
  }

  /** An order not served in time (`orders.late`). */
  late(event: OrderEvent): void {
    const order = this.entry(event.id);
    if (order.late) return;
    order.late = event.at;
    this.changed(order);
  }

  /** What the order service knows of an order: its customer, dishes and total. */
  describe(details: Order): void {
    const order = this.entry(details.id);
    order.customer = details.customer;
    order.items = details.items;
    order.total = details.total;
    this.changed(order);
  }

  private entry(id: string): BoardOrder {
    let order = this.orders.get(id);
    if (!order) {
      order = { id, status: ORDER_STATUSES[0], steps: {} };
      this.orders.set(id, order);
      for (const old of this.orders.keys()) {
        if (this.orders.size <= KEPT) break;
        this.orders.delete(old);
      }
    }
    return order;
  }

  private changed(order: BoardOrder): void {
    for (const listener of this.listeners) listener(order);
  }
}
