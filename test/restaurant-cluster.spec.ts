import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cleanup, NatsCluster, waitFor } from '@brigade/testing';
import { Restaurant } from './support/restaurant';

describe('the restaurant, replicated on a 3-node cluster @integration', function () {
  this.timeout(180_000);
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  it('serves every accepted order through the loss of the ORDERS stream leader; failover refusals are 503', async () => {
    const cluster = cleanup.add(await NatsCluster.start(), (c) => c.stop());
    const restaurant = await Restaurant.open(cleanup, cluster.url, {
      STREAM_REPLICAS: '3',
      COOK_MS_PER_DISH: '40',
    });
    const jsm = await restaurant.nc.jetstreamManager();
    for (const stream of ['ORDERS', 'KV_orders', 'DEAD_LETTERS', 'DEAD_LETTERS_ADVISORIES'])
      expect((await jsm.streams.info(stream)).config.num_replicas, stream).to.equal(3);

    const accepted: string[] = [];
    const statuses = new Map<number, number>();
    let placing = true;
    const placeSteadily = (async () => {
      for (let i = 0; placing; i++) {
        const answer = await restaurant.post(
          JSON.stringify({ customer: `guest-${i}`, items: [{ dish: 'kimchi', quantity: 1 }] }),
        );
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        expect([202, 503], JSON.stringify(answer.body)).to.include(answer.status);
        if (answer.status === 202) accepted.push(answer.body['id'] as string);
        await sleep(50);
      }
    })();

    await waitFor(() => accepted.length >= 20, { timeout: 30_000 });
    const leader = await cluster.streamLeader('ORDERS');
    await leader.kill();
    const killedAt = accepted.length;
    await waitFor(() => accepted.length >= killedAt + 40, {
      timeout: 60_000,
      message: 'orders to be accepted again after the failover',
    });
    placing = false;
    await placeSteadily;

    const orders = await waitFor(
      async () => {
        const all = await Promise.all(accepted.map((id) => restaurant.order(id)));
        // An event retried after the failover may land after later ones: done is served with
        // five statuses recorded (which five, each once, is checked below).
        return all.every((o) => o.status === 'served' && o.history.length >= 5) ? all : undefined;
      },
      {
        timeout: 90_000,
        interval: 500,
        message: 'every accepted order served, every status recorded',
      },
    );
    let slowestMs = 0;
    for (const o of orders) {
      const seen = o.history.map((h) => h.status);
      // Each status once: no event was applied twice, none was lost.
      expect(seen.sort(), o.id).to.deep.equal(['cooked', 'cooking', 'paid', 'placed', 'served']);
      const at = (status: string): number =>
        Date.parse(o.history.find((h) => h.status === status)?.at ?? '');
      slowestMs = Math.max(slowestMs, at('served') - at('placed'));
    }
    expect(new Set(accepted).size).to.equal(accepted.length);
    const refused = statuses.get(503) ?? 0;
    console.log(
      `      cluster failover: ${accepted.length} accepted, ${orders.length} served, ${refused} refused (503), ` +
        `slowest from placed to served ${(slowestMs / 1000).toFixed(1)} s; leader ${leader.port} killed after ${killedAt}`,
    );
    for (const proc of restaurant.running.values())
      expect(proc.running, `${proc.label} still runs`).to.equal(true);
  });
});
