import type { StreamDeclaration } from '@brigade/core';

/** Subjects of the restaurant. Events are `orders.<what happened>`; requests name their service. */
export const Subjects = {
  /** order -> everyone: an order was taken. */
  placed: 'orders.placed',
  /** reception -> kitchen (and everyone): the customer paid; cook it. */
  paid: 'orders.paid',
  /** kitchen -> everyone: a cook started on it. */
  cooking: 'orders.cooking',
  /** kitchen -> reception (and everyone): it is ready. */
  cooked: 'orders.cooked',
  /** reception -> everyone: handed to the customer. */
  served: 'orders.served',
  /** Every order event. */
  allEvents: 'orders.*',
  /** Request: create an order. */
  create: 'order.create',
  /** Request: read an order. */
  get: 'order.get',
  /** Request (broadcast): each kitchen's load. */
  kitchenStatus: 'kitchen.status',
  /** Request: the audit trail's counts. */
  auditSummary: 'audit.summary',
} as const;

/** Every service declares the same stream, so whichever starts first creates it. */
export const ORDERS_STREAM: StreamDeclaration = {
  name: 'ORDERS',
  subjects: ['orders.>'],
  maxAge: '7d',
  duplicateWindow: '10m',
};

export const ORDER_STATUSES = ['placed', 'paid', 'cooking', 'cooked', 'served'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** The price, in cents, of each dish on the menu. */
export const MENU: Readonly<Record<string, number>> = {
  bibimbap: 1200,
  bulgogi: 1500,
  kimchi: 400,
  japchae: 1100,
  tteokbokki: 900,
};

export interface OrderLine {
  dish: string;
  quantity: number;
}

/** What reception sends to `order.create`. */
export interface NewOrder {
  customer: string;
  items: OrderLine[];
}

export interface Order extends NewOrder {
  id: string;
  /** Total in cents. */
  total: number;
  status: OrderStatus;
  /** When each status was reached, in order. */
  history: { status: OrderStatus; at: string; by?: string }[];
  /** The kitchen instance that cooked it. */
  cookedBy?: string;
}

/** The body of every `orders.*` event. */
export interface OrderEvent {
  id: string;
  at: string;
  /** The kitchen instance, on `cooking` and `cooked`. */
  kitchen?: string;
}

/** The body of `orders.paid`: the kitchen needs the dishes. */
export interface PaidOrder extends OrderEvent {
  items: OrderLine[];
  total: number;
}

/** The status an event moves an order to, from its subject. */
export function statusOf(subject: string): OrderStatus | undefined {
  const status = subject.slice('orders.'.length);
  return (ORDER_STATUSES as readonly string[]).includes(status)
    ? (status as OrderStatus)
    : undefined;
}

/** Statuses only move forward: events may arrive late or twice (eventual consistency). */
export function isLater(next: OrderStatus, current: OrderStatus): boolean {
  return ORDER_STATUSES.indexOf(next) > ORDER_STATUSES.indexOf(current);
}
