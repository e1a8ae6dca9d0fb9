import type { DeadLetterOptions, StreamDeclaration } from '@brigade/core';

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

/**
 * Replicas of every stream and bucket of the restaurant: `STREAM_REPLICAS` (1 to 5), default 1.
 * Set it to 3 on a three-node cluster, where one node may then go down without losing anything.
 */
export function streamReplicas(value = process.env['STREAM_REPLICAS']): number {
  if (value === undefined || value === '') return 1;
  const replicas = Number(value);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5)
    throw new Error(`STREAM_REPLICAS must be a whole number from 1 to 5, got '${value}'`);
  return replicas;
}

const REPLICAS = streamReplicas();

/** Every service declares the same stream, so whichever starts first creates it. */
export const ORDERS_STREAM: StreamDeclaration = {
  name: 'ORDERS',
  subjects: ['orders.>'],
  maxAge: '7d',
  duplicateWindow: '10m',
  replicas: REPLICAS,
};

/** The dead-letter streams of the services with durable handlers, replicated like the rest. */
export const DEAD_LETTERS: DeadLetterOptions = { replicas: REPLICAS };

/** The order service's key-value bucket of order state. */
export const ORDERS_BUCKET = { name: 'orders', history: 5, replicas: REPLICAS } as const;

/**
 * The header every order event carries with its order's id, so that a durable handler can take
 * one order's events one after another (`orderBy: { header: ORDER_ID_HEADER }`).
 */
export const ORDER_ID_HEADER = 'order-id';

/** Publish options of an order event: durable, de-duplicated by `msgId`, keyed by its order. */
export function orderEventOptions(orderId: string, msgId: string) {
  return { durable: true, msgId, headers: { [ORDER_ID_HEADER]: orderId } } as const;
}

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

/** The price of a dish on the menu, in cents; `undefined` for anything else (`constructor` too). */
export function priceOf(dish: string): number | undefined {
  return Object.hasOwn(MENU, dish) ? MENU[dish] : undefined;
}

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
