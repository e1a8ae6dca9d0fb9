import { Endpoint, Service, Subscribe, type MessageContext } from '@brigade/core';
import {
  AuditApi,
  OrderEvents,
  statusOf,
  type OrderEvent,
  type OrderStatus,
} from '@restaurant/contracts';

/**
 * The feature added later (seed 003, 21.4): a new handler group in its own queue group ("audit")
 * that hears every order event. Nothing else had to change, and stopping it affects nobody.
 */
@Service({ name: 'audit', version: '1.0.0', description: 'Audit trail of order events' })
export class Audit {
  private readonly counts: Partial<Record<OrderStatus, number>> = {};

  @Subscribe(OrderEvents.any)
  record(event: OrderEvent, ctx: MessageContext): void {
    const status = statusOf(ctx.subject);
    if (!status) return;
    this.counts[status] = (this.counts[status] ?? 0) + 1;
    ctx.logger.info({ order: event.id, status, kitchen: event.kitchen }, `audit: order ${status}`);
  }

  @Endpoint(AuditApi.summary)
  summary(): Partial<Record<OrderStatus, number>> {
    return { ...this.counts };
  }
}
