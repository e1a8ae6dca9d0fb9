import 'reflect-metadata';
import { expect } from 'chai';
import { connect, JSONCodec } from 'nats';
import { Endpoint, Service, Subscribe, type BrigadeApp, type MessageContext } from '@brigade/core';
import { startApp, waitFor } from '@brigade/testing';
import { serverPerTest } from './support/server-per-test';

const json = JSONCodec();

describe('queue groups @integration', () => {
  const bed = serverPerTest();
  const { cleanup } = bed;

  async function startInstances(
    service: new (...args: never[]) => object,
    count: number,
  ): Promise<BrigadeApp[]> {
    const apps: BrigadeApp[] = [];
    for (let i = 0; i < count; i++)
      apps.push(cleanup.add(await startApp(bed.server, { services: [service] }), (a) => a.stop()));
    return apps;
  }

  it('delivers each of 1,000 events to exactly one of three instances of a service', async () => {
    const received = new Map<number, number>();
    const perInstance = new Map<object, number>();
    @Service({ name: 'kitchen' })
    class Kitchen {
      @Subscribe('orders.placed.qg1')
      cook(order: { n: number }): void {
        received.set(order.n, (received.get(order.n) ?? 0) + 1);
        perInstance.set(this, (perInstance.get(this) ?? 0) + 1);
      }
    }
    await startInstances(Kitchen, 3);
    for (let n = 0; n < 1000; n++) bed.client.publish('orders.placed.qg1', json.encode({ n }));
    await bed.client.flush();
    await waitFor(() => [...received.values()].reduce((a, b) => a + b, 0) >= 1000, {
      message: '1,000 events handled',
    });
    expect(received.size).to.equal(1000);
    expect(
      [...received.values()].every((count) => count === 1),
      'each event handled once',
    ).to.equal(true);
    expect(perInstance.size, 'all three instances took a share').to.equal(3);
  });

  it('gives every service its own copy of an event', async () => {
    const kitchen: number[] = [];
    const audit: number[] = [];
    @Service({ name: 'kitchen' })
    class Kitchen {
      @Subscribe('orders.placed.qg2')
      cook(order: { n: number }): void {
        kitchen.push(order.n);
      }
    }
    @Service({ name: 'audit' })
    class Audit {
      @Subscribe('orders.placed.qg2')
      record(order: { n: number }): void {
        audit.push(order.n);
      }
    }
    await startInstances(Kitchen, 2);
    await startInstances(Audit, 2);
    for (let n = 0; n < 100; n++) bed.client.publish('orders.placed.qg2', json.encode({ n }));
    await waitFor(() => kitchen.length >= 100 && audit.length >= 100);
    expect(kitchen.sort((a, b) => a - b)).to.deep.equal(range(100));
    expect(audit.sort((a, b) => a - b)).to.deep.equal(range(100));
  });

  it('gives every instance every event with queue: false', async () => {
    const byInstance = new Map<object, number[]>();
    @Service({ name: 'screens' })
    class Screens {
      @Subscribe('orders.cooked.qg3', { queue: false })
      show(order: { n: number }): void {
        byInstance.set(this, [...(byInstance.get(this) ?? []), order.n]);
      }
    }
    await startInstances(Screens, 3);
    for (let n = 0; n < 50; n++) bed.client.publish('orders.cooked.qg3', json.encode({ n }));
    await waitFor(
      () => byInstance.size === 3 && [...byInstance.values()].every((l) => l.length >= 50),
    );
    for (const list of byInstance.values()) expect(list).to.deep.equal(range(50));
  });

  it("joins endpoints to queue group 'q' by default", async () => {
    @Service({ name: 'status' })
    class Status {
      @Endpoint('kitchen.status.qg4')
      status(): string {
        return 'brigade';
      }
    }
    await startInstances(Status, 1);
    const answers = await shareWithPlainMember('kitchen.status.qg4', 'q', 200);
    expect(answers.brigade).to.be.greaterThan(0);
    expect(answers.plain).to.be.greaterThan(0);
    expect(answers.brigade + answers.plain).to.equal(200);
  });

  it('uses the service-level queue group, and a method-level one over it', async () => {
    @Service({ name: 'grouped', queue: 'cooks' })
    class Grouped {
      @Endpoint('status.qg5')
      status(): string {
        return 'brigade';
      }

      @Endpoint('other.qg5', { queue: 'own' })
      other(): string {
        return 'brigade';
      }
    }
    await startInstances(Grouped, 1);
    const serviceLevel = await shareWithPlainMember('status.qg5', 'cooks', 200);
    expect(serviceLevel.brigade + serviceLevel.plain).to.equal(200);
    expect(serviceLevel.plain).to.be.greaterThan(0);
    expect(serviceLevel.brigade).to.be.greaterThan(0);
    const methodLevel = await shareWithPlainMember('other.qg5', 'own', 200);
    expect(methodLevel.brigade + methodLevel.plain).to.equal(200);
    expect(methodLevel.plain).to.be.greaterThan(0);
    expect(methodLevel.brigade).to.be.greaterThan(0);
  });

  it('binds wildcard subjects and hands the handler the actual subject', async () => {
    const seen: string[] = [];
    @Service({ name: 'wild' })
    class Wild {
      @Subscribe('menu.*.changed')
      one(_: unknown, ctx: MessageContext): void {
        seen.push(`one ${ctx.subject}`);
      }

      @Subscribe('stock.>')
      many(_: unknown, ctx: MessageContext): void {
        seen.push(`many ${ctx.subject}`);
      }
    }
    await startInstances(Wild, 1);
    for (const subject of [
      'menu.pasta.changed',
      'menu.pasta.deleted',
      'stock.flour',
      'stock.flour.low',
      'stock',
    ]) {
      bed.client.publish(subject, json.encode({}));
    }
    await waitFor(() => seen.length >= 3);
    expect(seen.sort()).to.deep.equal([
      'many stock.flour',
      'many stock.flour.low',
      'one menu.pasta.changed',
    ]);
  });

  /** Answers requests as a plain member of `queue` beside the Brigade endpoint; counts who answered. */
  async function shareWithPlainMember(subject: string, queue: string, requests: number) {
    const plain = bed.client.subscribe(subject, {
      queue,
      callback: (_e, m) => m.respond(json.encode('plain')),
    });
    await bed.client.flush();
    const requester = cleanup.add(await connect({ servers: bed.server.url }), (nc) => nc.close());
    const counts = { brigade: 0, plain: 0 };
    for (let i = 0; i < requests; i++) {
      const reply = json.decode((await requester.request(subject, json.encode({}))).data) as
        'brigade' | 'plain';
      counts[reply]++;
    }
    plain.unsubscribe();
    return counts;
  }
});

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
