// Type-level specs: every `@ts-expect-error` line below must fail to compile, and the typecheck
// (`tsc -p tsconfig.specs.json`, part of CI) fails when one compiles. The mocha part only proves
// the declarations run.
import { expect } from 'chai';
import { z } from 'zod';
import {
  Endpoint,
  endpoint,
  event,
  Service,
  Subscribe,
  type Bus,
  type HandledRequestOf,
  type Middleware,
  type OutgoingMiddleware,
  type ReceivedReplyOf,
  type RequestOf,
} from '@brigade/core';

const Orders = {
  place: endpoint('orders.place', {
    request: z.object({ dish: z.string(), quantity: z.number().default(1) }),
    response: z.object({ id: z.string() }),
  }),
  placed: event('orders.placed', z.object({ id: z.string() })),
  ping: endpoint('orders.ping'),
};

// What each side sees: the caller may leave out a defaulted field, the handler always has it.
const sent: RequestOf<typeof Orders.place> = { dish: 'ramen' };
const handled: HandledRequestOf<typeof Orders.place> = { dish: 'ramen', quantity: 2 };
// @ts-expect-error the handler's request has the default filled in
const missingDefault: HandledRequestOf<typeof Orders.place> = { dish: 'ramen' };
const received: ReceivedReplyOf<typeof Orders.place> = { id: 'o-1' };

@Service({ name: 'typed' })
export class Typed {
  @Endpoint(Orders.place)
  place(request: { dish: string; quantity: number }): { id: string } {
    return { id: `${request.quantity}-${request.dish}` };
  }

  @Endpoint(Orders.place)
  async placeLater(request: { dish: string }): Promise<{ id: string }> {
    return { id: request.dish };
  }

  @Subscribe(Orders.placed)
  onPlaced(order: { id: string }): void {
    void order;
  }

  // Without schemas, anything goes, as with a plain subject.
  @Endpoint(Orders.ping)
  ping(anything: unknown): unknown {
    return anything;
  }
}

/** Handlers that must not compile: never run (a mismatched entry also fails at definition). */
export function mismatches(): unknown {
  @Service({ name: 'mismatched' })
  class Mismatched {
    // @ts-expect-error the request is no number
    @Endpoint(Orders.place)
    wrongRequest(request: number): { id: string } {
      return { id: String(request) };
    }

    // @ts-expect-error the reply lacks `id`
    @Endpoint(Orders.place)
    wrongReply(): { name: string } {
      return { name: 'x' };
    }

    // @ts-expect-error the event is no string
    @Subscribe(Orders.placed)
    wrongEvent(order: string): void {
      void order;
    }

    // @ts-expect-error an endpoint entry is not an event
    @Subscribe(Orders.place)
    notAnEvent(): void {}
  }
  return Mismatched;
}

export async function callers(bus: Bus): Promise<void> {
  const reply = await bus.request(Orders.place, { dish: 'ramen' });
  const id: string = reply.id;
  // @ts-expect-error the reply has no `total`
  void reply.total;
  // @ts-expect-error `dish` is a string
  await bus.request(Orders.place, { dish: 1 });
  // @ts-expect-error `dish` is required
  await bus.request(Orders.place, {});
  await bus.publish(Orders.placed, { id });
  // @ts-expect-error the event needs an id
  await bus.publish(Orders.placed, { name: 'x' });
  await bus.publish(Orders.placed, { id }, { durable: true }).then((ack) => ack.sequence);
  // Plain subjects keep working exactly as before.
  const plain = await bus.request<{ busy: boolean }>('kitchen.status', { table: 1 });
  void plain.busy;
  await bus.publish('anything.goes', { at: 'all' });
}

// Middleware: a forgotten `return next()` does not compile; every correct form does.
export const middlewareForms: Middleware[] = [
  (_invocation, next) => next(),
  async (_invocation, next) => ({ wrapped: await next() }),
  async (_invocation, next) => {
    await next();
  },
  (invocation, next) => (invocation.payload === undefined ? undefined : next()),
  (invocation, next) => {
    if (invocation.context.replyExpected) return 'answered here';
    return next();
  },
  // @ts-expect-error next() is called and its result neither returned nor awaited
  (_invocation, next) => {
    void next();
  },
];
export const outgoingForms: OutgoingMiddleware[] = [
  (_message, next) => next(),
  // @ts-expect-error the same mistake on the way out
  (_message, next) => {
    void next();
  },
];

describe('contract types', () => {
  it('declares entries that carry their subjects and schemas', () => {
    expect(Orders.place).to.include({ kind: 'endpoint', subject: 'orders.place' });
    expect(Orders.placed).to.include({ kind: 'event', subject: 'orders.placed' });
    expect([sent, handled, missingDefault, received]).to.have.length(4);
  });
});
