import { expect } from 'chai';
import { JSONCodec } from 'nats';
import { z } from 'zod';
import * as v from 'valibot';
import { toStandardJsonSchema } from '@valibot/to-json-schema';
import {
  Bus,
  DefinitionError,
  Endpoint,
  endpoint,
  event,
  InternalError,
  SCHEMA_METADATA,
  Service,
  Subscribe,
  ValidationError,
  type Schema,
} from '@brigade/core';
import { startApp, waitFor } from '@brigade/testing';
import { exploreServices } from '@brigade/core/internal';
import { captureLogs } from './support/log-capture';
import { serverPerTest } from './support/server-per-test';

const json = JSONCodec();

interface Library {
  order: Schema;
  reply: Schema;
  withJsonSchema: Schema;
}

/** The same order, with a defaulted quantity, in each schema library (arktype loads as ESM). */
const LIBRARIES: { name: string; load: () => Library | Promise<Library> }[] = [
  {
    name: 'zod 4',
    load: () => ({
      order: z.object({
        dish: z.string().min(1),
        quantity: z.number().int().positive().default(1),
      }),
      reply: z.object({ accepted: z.string() }),
      withJsonSchema: z.object({ dish: z.string() }),
    }),
  },
  {
    name: 'valibot 1',
    load: () => ({
      order: v.object({
        dish: v.pipe(v.string(), v.minLength(1)),
        quantity: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1),
      }),
      reply: v.object({ accepted: v.string() }),
      withJsonSchema: toStandardJsonSchema(v.object({ dish: v.string() })),
    }),
  },
  { name: 'arktype 2', load: arktype },
];

async function arktype(): Promise<Library> {
  const { type } = await import('arktype');
  return {
    order: type({ dish: 'string > 0', quantity: 'number.integer > 0 = 1' }),
    reply: type({ accepted: 'string' }),
    withJsonSchema: type({ dish: 'string' }),
  };
}

describe('schemas on handlers @integration', () => {
  const bed = serverPerTest({ jetstream: true });

  for (const { name, load } of LIBRARIES) {
    describe(name, () => {
      let library: Library;
      before(async () => {
        library = await load();
      });

      it('checks requests before the handler (422, every issue) and replies before they are sent', async () => {
        const seen: unknown[] = [];
        @Service({ name: 'counter' })
        class Counter {
          @Endpoint('counter.order', { request: library.order, response: library.reply })
          order(order: { dish: string; quantity: number }): unknown {
            seen.push(order);
            return order.dish === 'mystery'
              ? { accepted: 42 }
              : { accepted: `${order.quantity}x ${order.dish}` };
          }
        }
        const logs = captureLogs();
        const app = bed.cleanup.add(
          await startApp(bed.server, { services: [Counter], logger: { instance: logs.logger } }),
          (a) => a.stop(),
        );
        // The handler gets the schema's output: the default filled in.
        expect(await app.bus.request('counter.order', { dish: 'bibimbap' })).to.deep.equal({
          accepted: '1x bibimbap',
        });
        expect(seen).to.deep.equal([{ dish: 'bibimbap', quantity: 1 }]);

        const invalid = await app.bus
          .request('counter.order', { dish: '', quantity: -2 })
          .catch((e: unknown) => e);
        expect(invalid).to.be.instanceOf(ValidationError);
        const issues = (invalid as ValidationError).details as {
          issues: { path: string; message: string }[];
        };
        expect(issues.issues.map((i) => i.path).sort()).to.deep.equal(['dish', 'quantity']);
        expect(issues.issues.every((i) => i.message.length > 0)).to.equal(true);
        expect(seen).to.have.length(1); // the handler never saw it

        // A reply its schema refuses is never sent: the caller gets a 500, the log the issues.
        const bad = await app.bus
          .request('counter.order', { dish: 'mystery' })
          .catch((e: unknown) => e);
        expect(bad).to.be.instanceOf(InternalError);
        expect((bad as InternalError).message).to.not.include('accepted');
        const logged = logs.lines.find((l) => String(l['msg']).includes('failed'));
        expect(JSON.stringify(logged))
          .to.include('response schema refuses')
          .and.include('accepted');
      });

      it('publishes the JSON Schema of request and reply in the Service API INFO', async () => {
        @Service({ name: 'described' })
        class Described {
          @Endpoint('described.order', { request: library.withJsonSchema })
          order(): string {
            return 'ok';
          }
        }
        bed.cleanup.add(await startApp(bed.server, { services: [Described] }), (a) => a.stop());
        const info = json.decode((await bed.client.request('$SRV.INFO.described')).data) as {
          endpoints: { metadata: Record<string, string> }[];
        };
        const schema = JSON.parse(info.endpoints[0]!.metadata[SCHEMA_METADATA.request]!) as {
          type: string;
          properties: Record<string, { type: string }>;
          required: string[];
        };
        expect(schema).to.include({ type: 'object' });
        expect(schema.properties['dish']).to.deep.include({ type: 'string' });
        expect(schema.required).to.deep.equal(['dish']);
      });
    });
  }

  it('dead-letters an invalid durable event at once, the issues in its reason', async () => {
    const cooked: string[] = [];
    @Service({ name: 'strict' })
    class Strict {
      @Subscribe('orders.placed', {
        schema: z.object({ id: z.string(), items: z.array(z.string()).min(1) }),
        durable: { stream: 'ORDERS', maxDeliver: 5 },
      })
      cook(order: { id: string }): void {
        cooked.push(order.id);
      }
    }
    const app = bed.cleanup.add(
      await startApp(bed.server, {
        services: [Strict],
        streams: [{ name: 'ORDERS', subjects: ['orders.>'] }],
      }),
      (a) => a.stop(),
    );
    await app.bus.publish('orders.placed', { id: 'o-1' }, { durable: true });
    await app.bus.publish('orders.placed', { id: 'o-2', items: ['kimchi'] }, { durable: true });
    await waitFor(async () => (await app.deadLetters.list()).length === 1 && cooked.length === 1);
    const [letter] = await app.deadLetters.list();
    expect(letter).to.include({ code: 422, attempts: 1 });
    expect(letter!.reason).to.include('invalid event').and.include('items');
    expect(cooked).to.deep.equal(['o-2']);
  });

  it('counts an invalid core event as a 422 and keeps the handler from it', async () => {
    const heard: unknown[] = [];
    @Service({ name: 'listener' })
    class Listener {
      @Subscribe('menu.changed', { schema: v.object({ dish: v.string() }) })
      changed(change: unknown): void {
        heard.push(change);
      }
    }
    const app = bed.cleanup.add(await startApp(bed.server, { services: [Listener] }), (a) =>
      a.stop(),
    );
    bed.client.publish('menu.changed', json.encode({ dish: 7 }));
    bed.client.publish('menu.changed', json.encode({ dish: 'japchae' }));
    await waitFor(() => heard.length === 1 && app.stats()[0]!.stats.numErrors === 1);
    expect(app.stats()[0]!.stats.lastError).to.match(/^422 invalid event: dish: /);
  });

  it('waits for an async schema', async () => {
    const taken = new Set(['Ada']);
    const Name = z
      .object({ name: z.string() })
      .refine(async (n) => !taken.has(n.name), { message: 'taken', path: ['name'] });
    @Service({ name: 'names' })
    class Names {
      @Endpoint('names.claim', { request: Name })
      claim(request: { name: string }): string {
        taken.add(request.name);
        return `claimed ${request.name}`;
      }
    }
    const app = bed.cleanup.add(await startApp(bed.server, { services: [Names] }), (a) => a.stop());
    expect(await app.bus.request('names.claim', { name: 'Grace' })).to.equal('claimed Grace');
    const again = await app.bus.request('names.claim', { name: 'Grace' }).catch((e: unknown) => e);
    expect(again).to.be.instanceOf(ValidationError);
    expect((again as ValidationError).message).to.equal('invalid request: name: taken');
  });

  describe('contracts', () => {
    const Kitchen = {
      status: endpoint('kitchen.status', {
        request: z.object({ table: z.number().int() }),
        response: z.object({ busy: z.boolean() }),
      }),
      cooked: event('orders.cooked', z.object({ id: z.string() })),
    };

    it('binds handlers to entries and checks what is sent to them before it leaves', async () => {
      const cooked: string[] = [];
      @Service({ name: 'kitchen' })
      class KitchenService {
        constructor(private readonly bus: Bus) {}

        @Endpoint(Kitchen.status)
        async status(query: { table: number }): Promise<{ busy: boolean }> {
          await this.bus.publish(Kitchen.cooked, { id: `t${query.table}` });
          return { busy: query.table > 10 };
        }

        @Subscribe(Kitchen.cooked)
        onCooked(order: { id: string }): void {
          cooked.push(order.id);
        }
      }
      const app = bed.cleanup.add(await startApp(bed.server, { services: [KitchenService] }), (a) =>
        a.stop(),
      );
      const reply = await app.bus.request(Kitchen.status, { table: 12 });
      expect(reply.busy).to.equal(true);
      await waitFor(() => cooked.includes('t12'));

      // Refused before sending: no handler hears it.
      const wrong = await app.bus
        .publish(Kitchen.cooked, { id: 5 } as unknown as { id: string })
        .catch((e: unknown) => e);
      expect(wrong).to.be.instanceOf(ValidationError);
      expect((wrong as ValidationError).message).to.match(
        /^invalid event for 'orders\.cooked': id: /,
      );
      const badRequest = await app.bus
        .request(Kitchen.status, { table: 1.5 })
        .catch((e: unknown) => e);
      expect(badRequest).to.be.instanceOf(ValidationError);
      expect(app.stats().find((s) => s.handler.name === 'status')!.stats.numRequests).to.equal(1);

      // Opted out, it goes; the handler's own schema still stops it.
      await app.bus.publish(Kitchen.cooked, { id: 5 } as unknown as { id: string }, {
        validate: false,
      });
      await waitFor(
        () => app.stats().find((s) => s.handler.name === 'onCooked')!.stats.numErrors === 1,
      );
      expect(cooked).to.deep.equal(['t12']);
    });

    it('refuses entries and schemas where they do not belong, naming the handler', () => {
      const refusal = (define: () => unknown): string => {
        try {
          exploreServices([define() as new () => object]);
        } catch (err) {
          expect(err).to.be.instanceOf(DefinitionError);
          return (err as Error).message;
        }
        throw new Error('accepted');
      };
      expect(
        refusal(() => {
          @Service({ name: 'odd' })
          class Odd {
            @Subscribe('odd.event', { request: z.string() } as never)
            handle(): void {}
          }
          return Odd;
        }),
      ).to.include("'request' is for @Endpoint; use 'schema'");
      expect(
        refusal(() => {
          @Service({ name: 'odd' })
          class Odd {
            @Endpoint('odd.call', { request: { parse: () => 1 } as never })
            handle(): void {}
          }
          return Odd;
        }),
      ).to.include('must be a Standard Schema');
      expect(() => {
        @Service({ name: 'odd' })
        class Odd {
          @Subscribe(Kitchen.status as never)
          handle(): void {}
        }
        return Odd;
      }).to.throw(
        DefinitionError,
        '@Subscribe takes a subject or an event() contract entry, got an endpoint() entry',
      );
      expect(() => {
        @Service({ name: 'odd' })
        class Odd {
          @Endpoint(Kitchen.status, { request: z.string() } as never)
          handle(): { busy: boolean } {
            return { busy: false };
          }
        }
        return Odd;
      }).to.throw(DefinitionError, 'the contract entry gives the request schema');
    });
  });
});
