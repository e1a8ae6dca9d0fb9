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
  /** order -> everyone: not served within ORDER_LATE_AFTER of being placed. */
  late: 'orders.late',
  /**
   * The server -> order: an order's late check, scheduled when it is placed (not an `orders.*`
   * event: nothing else hears it).
   */
  lateCheck: 'orders.checks.late',
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
