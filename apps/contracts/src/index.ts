import type { DeadLetterOptions, StreamDeclaration } from '@brigade/core';
import { ORDER_STATUSES } from './menu';
import type { OrderStatus } from './orders';

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
  // The late checks: a server without schedules (before 2.12) runs the restaurant without them.
  schedules: 'if-supported',
};

/**
 * `ORDER_LATE_AFTER`: how long after it was placed an order not yet served counts as late
 * (`90s`, `10m`). Default: 10 minutes.
 */
export function orderLateAfter(value = process.env['ORDER_LATE_AFTER']): string {
  if (value === undefined || value === '') return '10m';
  if (!/^\d+(s|m|h)$/.test(value))
    throw new Error(
      `ORDER_LATE_AFTER is whole seconds, minutes or hours ('90s', '10m'), got '${value}'`,
    );
  return value;
}

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

export * from './menu';
export * from './orders';
export * from './subjects';
