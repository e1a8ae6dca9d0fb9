import { expect } from 'chai';
import { connect } from 'nats';
import { Service, Subscribe } from '@brigade/core';
import { Cleanup, NatsCluster, startApp } from '@brigade/testing';
import { captureLogs } from './support/log-capture';

describe('replicas on a cluster @integration', function () {
  this.timeout(60_000);
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  @Service({ name: 'kitchen' })
  class Kitchen {
    @Subscribe('orders.paid', { durable: { stream: 'ORDERS' } })
    cook(): void {}
  }

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
