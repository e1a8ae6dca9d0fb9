import { endpoint, event } from '@brigade/core';
import { z } from 'zod';
import { MENU, ORDER_STATUSES, priceOf } from './menu';
import { Subjects } from './subjects';

const MAX_LINES = 20;
const MAX_QUANTITY = 50;
const DISHES = `must be one of: ${Object.keys(MENU).join(', ')}`;

/** One line of an order: a dish on the menu and how many. */
export const OrderLine = z.object({
  dish: z.string({ error: DISHES }).refine((dish) => priceOf(dish) !== undefined, DISHES),
  quantity: z
    .number({ error: `must be a whole number from 1 to ${MAX_QUANTITY}` })
    .int(`must be a whole number from 1 to ${MAX_QUANTITY}`)
    .min(1, `must be a whole number from 1 to ${MAX_QUANTITY}`)
    .max(MAX_QUANTITY, `must be a whole number from 1 to ${MAX_QUANTITY}`),
});
export type OrderLine = z.infer<typeof OrderLine>;

const CUSTOMER = 'must be a name of 1 to 100 characters';
const ITEMS = `must be a list of 1 to ${MAX_LINES} dishes`;

/** What reception sends to `order.create`: checked by reception and by the order service alike. */
export const NewOrder = z.object(
  {
    customer: z.string({ error: CUSTOMER }).trim().min(1, CUSTOMER).max(100, CUSTOMER),
    items: z.array(OrderLine, { error: ITEMS }).min(1, ITEMS).max(MAX_LINES, ITEMS),
  },
  { error: 'the order must be an object with "customer" and "items"' },
);
export type NewOrder = z.infer<typeof NewOrder>;

export const OrderStatus = z.enum(ORDER_STATUSES);
export type OrderStatus = z.infer<typeof OrderStatus>;

export const Order = NewOrder.extend({
  id: z.string(),
  /** Total in cents. */
  total: z.number().int(),
  status: OrderStatus,
  /** When each status was reached, in order. */
  history: z.array(z.object({ status: OrderStatus, at: z.string(), by: z.string().optional() })),
  /** The kitchen instance that cooked it. */
  cookedBy: z.string().optional(),
  /** When its late check found it not served (`ORDER_LATE_AFTER` after it was placed). */
  late: z.string().optional(),
});
export type Order = z.infer<typeof Order>;

/** The body of every `orders.*` event. */
export const OrderEvent = z.object({
  id: z.string().min(1),
  at: z.string(),
  /** The kitchen instance, on `cooking` and `cooked`. */
  kitchen: z.string().optional(),
});
export type OrderEvent = z.infer<typeof OrderEvent>;

/** The body of `orders.paid`: the kitchen needs the dishes. */
export const PaidOrder = OrderEvent.extend({
  items: z.array(z.object({ dish: z.string(), quantity: z.number().int().positive() })).min(1),
  total: z.number().int(),
});
export type PaidOrder = z.infer<typeof PaidOrder>;

/** The order service's endpoints. */
export const OrderApi = {
  create: endpoint(Subjects.create, { request: NewOrder, response: Order }),
  get: endpoint(Subjects.get, {
    request: z.object({ id: z.string({ error: 'give the order id as { "id": "..." }' }).min(1) }),
    response: Order,
  }),
};

/** The order events, on the ORDERS stream. */
export const OrderEvents = {
  placed: event(Subjects.placed, OrderEvent),
  paid: event(Subjects.paid, PaidOrder),
  cooking: event(Subjects.cooking, OrderEvent),
  cooked: event(Subjects.cooked, OrderEvent),
  served: event(Subjects.served, OrderEvent),
  /** Not served in time: `at` is when the late check found it so. */
  late: event(Subjects.late, OrderEvent),
  /** An order's late check, published by the server on schedule; `at` is when it was placed. */
  lateCheck: event(Subjects.lateCheck, OrderEvent),
  /** Every order event (a subscription; publish to one of the above). */
  any: event(Subjects.allEvents, OrderEvent),
};

/** Each kitchen's load: a broadcast endpoint, every kitchen answers. */
export const KitchenApi = {
  status: endpoint(Subjects.kitchenStatus, {
    response: z.object({
      kitchen: z.string(),
      cooking: z.number().int(),
      cooked: z.number().int(),
    }),
  }),
};

/** The audit trail's counts per status. */
export const AuditApi = {
  summary: endpoint(Subjects.auditSummary, {
    response: z.partialRecord(OrderStatus, z.number().int()),
  }),
};

/**
 * The issues of a schema as sentences a customer can act on: `"customer" must be ...`,
 * `items[0].dish must be ...` (the HTTP API's `details.problems`).
 */
export function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const [first, ...rest] = issue.path;
    if (first === undefined) return issue.message;
    const where =
      rest.length === 0
        ? `"${String(first)}"`
        : `${String(first)}${rest.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`;
    return `${where} ${issue.message}`;
  });
}
