import { expect } from 'chai';
import { connect } from 'nats';
import { Service, Subscribe } from '@brigade/core';
import { Cleanup, NatsCluster, startApp, waitFor } from '@brigade/testing';
import { captureLogs } from './support/log-capture';

@Service({ name: 'kitchen' })
class Kitchen {
  @Subscribe('orders.paid', { durable: { stream: 'ORDERS' } })
  cook(): void {}
}

describe('replicas on a cluster @integration', function () {
  this.timeout(60_000);
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  it('applies declared replicas to streams, dead letters and buckets, and never lowers an operator’s', async () => {
    const cluster = cleanup.add(await NatsCluster.start(), (c) => c.stop());
    const nc = cleanup.add(await connect({ servers: cluster.url.split(',') }), (c) => c.close());
    const jsm = await nc.jetstreamManager();
    const replicas = async (stream: string): Promise<number> =>
      (await jsm.streams.info(stream)).config.num_replicas;
    const logs = captureLogs();
    const start = (streamReplicas: number) =>
      startApp(cluster, {
        services: [Kitchen],
        streams: [{ name: 'ORDERS', subjects: ['orders.>'], replicas: streamReplicas }],
        deadLetter: { replicas: 3 },
        logger: { instance: logs.logger },
      }).then((app) => cleanup.add(app, (a) => a.stop()));

    const app = await start(3);
    const bucket = await app.keyValues.open('orders', { replicas: 3 });
    await bucket.put('k', 1);
    for (const stream of ['ORDERS', 'DEAD_LETTERS', 'DEAD_LETTERS_ADVISORIES', 'KV_orders'])
      expect(await replicas(stream), stream).to.equal(3);

    // A declaration of fewer replicas than the server's keeps the server's, and says so.
    await start(1);
    expect(await replicas('ORDERS')).to.equal(3);
    const warning = logs.lines.find((l) => String(l['msg']).includes('keeps its 3 replicas'));
    expect(warning, 'a warning about the kept replicas').to.include({ level: 40, declared: 1 });
  });
});

describe('provisioning while a cluster gathers its peers @integration', function () {
  this.timeout(90_000);
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  it('waits for the peers a replicated stream needs instead of failing start', async () => {
    // A cluster whose third machine has not come up yet: two peers, and a stream that needs three.
    const cluster = cleanup.add(await NatsCluster.start({ running: 2 }), (c) => c.stop());
    const logs = captureLogs();
    const started = startApp(cluster, {
      services: [Kitchen],
      streams: [{ name: 'ORDERS', subjects: ['orders.>'], replicas: 3 }],
      deadLetter: { replicas: 1 },
      logger: { instance: logs.logger },
    }).then((app) => cleanup.add(app, (a) => a.stop()));
    // While the third peer is missing, start keeps trying and says so: up to 2.10 the two elect a
    // JetStream leader that cannot place three replicas; since 2.11 they elect none until the third
    // has answered.
    const waiting = await waitFor(
      () => logs.lines.find((l) => String(l['msg']).includes('JetStream is not answering')),
      { timeout: 20_000, message: 'a line about waiting for JetStream' },
    );
    expect(waiting, 'a line about waiting for JetStream').to.include({ level: 40 });
    expect(String(waiting?.['err'])).to.match(/no suitable peers|temporarily unavailable|timeout/i);
    await cluster.node('n3').restart();
    await started;
    const nc = cleanup.add(await connect({ servers: cluster.url.split(',') }), (c) => c.close());
    const info = await (await nc.jetstreamManager()).streams.info('ORDERS');
    expect(info.config.num_replicas).to.equal(3);
  });
});
