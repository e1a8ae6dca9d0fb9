import { expect } from 'chai';
import { connect } from 'nats';
import {
  ConflictError,
  InvalidOptionError,
  KeyValueStores,
  ServerTooOldError,
  Service,
} from '@brigade/core';
import { Cleanup, NatsServer, natsServerOfSuite, startApp, waitFor } from '@brigade/testing';
import { rejectionOf } from './support/suite-server';

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

describe('key-value TTLs and limit markers on the newest server @integration', function () {
  this.timeout(60_000);
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  @Service({ name: 'sessions' })
  class Sessions {}

  it('expires a key by its own TTL, reads its marker as no value, and creates it again', async () => {
    const server = cleanup.add(
      await NatsServer.start({ jetstream: true, binary: natsServerOfSuite('sid') }),
      (s) => s.stop(),
    );
    const app = cleanup.add(await startApp(server, { services: [Sessions] }), (a) => a.stop());
    const bucket = await app.keyValues.open<{ user: string }>('sessions', {
      limitMarkerTtl: '10s',
    });
    const nc = cleanup.add(await connect({ servers: server.url }), (c) => c.close());
    const config = (await (await nc.jetstreamManager()).streams.info('KV_sessions')).config as {
      allow_msg_ttl?: boolean;
      subject_delete_marker_ttl?: number;
    };
    expect(config).to.include({ allow_msg_ttl: true, subject_delete_marker_ttl: 10e9 });
    await bucket.put('s-1', { user: 'ara' }, { ttl: '1s' });
    await bucket.create('s-2', { user: 'joon' }, { ttl: '1s' });
    await bucket.put('kept', { user: 'minji' });
    await expectConflict(bucket.create('s-2', { user: 'other' }, { ttl: '1s' }));
    expect((await bucket.get('s-1'))?.value).to.deep.equal({ user: 'ara' });
    expect((await bucket.keys()).sort()).to.deep.equal(['kept', 's-1', 's-2']);
    // Gone after their second; their markers stay 10 s, read as no value.
    await waitFor(async () => (await bucket.get('s-1')) === undefined, { timeout: 5_000 });
    await waitFor(async () => (await bucket.get('s-2')) === undefined, { timeout: 5_000 });
    const marker = await (
      await nc.jetstreamManager()
    ).streams.getMessage('KV_sessions', { last_by_subj: '$KV.sessions.s-1' });
    expect(marker.header.get('Nats-Marker-Reason')).to.equal('MaxAge');
    expect(await bucket.keys()).to.deep.equal(['kept']);
    // An expired key may be created again, over its marker.
    const revision = await bucket.create('s-1', { user: 'ara' }, { ttl: '60s' });
    expect(await bucket.get('s-1')).to.deep.include({ value: { user: 'ara' }, revision });
  });

  it('refuses a key TTL on a bucket without limit markers, before anything is written', async () => {
    const server = cleanup.add(
      await NatsServer.start({ jetstream: true, binary: natsServerOfSuite('sid') }),
      (s) => s.stop(),
    );
    const app = cleanup.add(await startApp(server, { services: [Sessions] }), (a) => a.stop());
    const bucket = await app.keyValues.open('plain');
    const refused = await rejectionOf(bucket.put('k', 1, { ttl: '5s' }));
    expect(refused).to.be.instanceOf(InvalidOptionError);
    expect((refused as Error).message).to.equal(
      "a key's ttl needs a bucket opened with limitMarkerTtl (key-value bucket 'plain')",
    );
    expect(await bucket.keys()).to.deep.equal([]);
    await app.keyValues.open('short', { limitMarkerTtl: '500ms' }).then(
      () => expect.fail('a marker TTL under a second was taken'),
      (err: unknown) => expect(err).to.be.instanceOf(InvalidOptionError),
    );
  });

  it('refuses limit markers on 2.10, naming the versions', async () => {
    const server = cleanup.add(
      await NatsServer.start({ jetstream: true, binary: natsServerOfSuite('trixie') }),
      (s) => s.stop(),
    );
    const app = cleanup.add(await startApp(server, { services: [Sessions] }), (a) => a.stop());
    const refused = await rejectionOf(app.keyValues.open('sessions', { limitMarkerTtl: '10s' }));
    expect(refused).to.be.instanceOf(ServerTooOldError);
    expect((refused as Error).message).to.match(
      /^limit markers on key-value bucket 'sessions' needs nats-server 2\.11 or later \(JetStream API level 1\); connected to 2\.10\./,
    );
  });
});

async function expectConflict(write: Promise<unknown>): Promise<void> {
  expect(await rejectionOf(write)).to.be.instanceOf(ConflictError);
}
