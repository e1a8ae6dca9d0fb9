import { expect } from 'chai';
import { ConflictError, InvalidOptionError, KeyValueStores, Service } from '@brigade/core';
import { Cleanup, NatsServer, startApp, waitFor } from '@brigade/testing';

describe('key-value buckets @integration', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('stores JSON with optimistic concurrency and keeps it across a server restart', async () => {
    const server = cleanup.add(await NatsServer.start({ jetstream: true }), (s) => s.stop());
    let injected: KeyValueStores | undefined;
    @Service({ name: 'ledger' })
    class Ledger {
      constructor(stores: KeyValueStores) {
        injected = stores;
      }
    }
    const app = cleanup.add(
      await startApp(server, { services: [Ledger], nats: { reconnectTimeWaitMs: 50 } }),
      (a) => a.stop(),
    );
    expect(injected).to.equal(app.keyValues);
    const bucket = await app.keyValues.open<{ total: number }>('ledger');
    const revision = await bucket.create('table-1', { total: 10 });
    expect(await bucket.get('table-1')).to.deep.equal({
      key: 'table-1',
      value: { total: 10 },
      revision,
    });
    expect(await bucket.create('table-1', { total: 99 }).catch((e: unknown) => e)).to.be.instanceOf(
      ConflictError,
    );
    const next = await bucket.update('table-1', { total: 20 }, revision);
    const stale = await bucket.update('table-1', { total: 30 }, revision).catch((e: unknown) => e);
    expect(stale).to.be.instanceOf(ConflictError);
    expect((stale as Error).message).to.include(`changed since revision ${revision}`);
    expect(await bucket.get('missing')).to.equal(undefined);

    await server.restart();
    // JetStream answers again once the app has reconnected and the server recovered its store.
    const reopened = await waitFor(() => app.keyValues.open<{ total: number }>('ledger'), {
      timeout: 15_000,
    });
    expect(await reopened.get('table-1')).to.deep.equal({
      key: 'table-1',
      value: { total: 20 },
      revision: next,
    });
    expect(await reopened.keys()).to.deep.equal(['table-1']);
    expect(await app.keyValues.open('bad.name').catch((e: unknown) => e)).to.be.instanceOf(
      InvalidOptionError,
    );
  });
});
