import { expect } from 'chai';
import { connect, type NatsConnection } from 'nats';
import {
  Endpoint,
  InvalidOptionError,
  JetStreamError,
  ServerTooOldError,
  Service,
  Subscribe,
  type MessageContext,
  type StreamDeclaration,
} from '@brigade/core';
import { atLeast, Features, ServerCapabilities } from '@brigade/core/internal';
import { Cleanup, startApp, waitFor, type NatsServerSuite } from '@brigade/testing';

import { rejectionOf, startRefusal, suiteServer } from './support/suite-server';

describe('what the server connected to can do', () => {
  it('compares versions as numbers, release candidates and a leading v included', () => {
    expect(atLeast('2.10.27', '2.11')).to.equal(false);
    expect(atLeast('2.9.10', '2.11')).to.equal(false);
    expect(atLeast('2.11.0', '2.11')).to.equal(true);
    expect(atLeast('2.11.0-RC.1', '2.11')).to.equal(true);
    expect(atLeast('v2.12.3', '2.12')).to.equal(true);
    expect(atLeast('2.15.1', '2.11')).to.equal(true);
    expect(atLeast('3.0.0', '2.14')).to.equal(true);
    expect(atLeast('2.100.0', '2.14')).to.equal(true);
  });

  it('needs both the version and the JetStream API level a feature came with', () => {
    const at = (version: string, level: number) =>
      new ServerCapabilities(version, level, 'nats://127.0.0.1:4222');
    for (const [version, level, supported] of [
      ['2.9.10', 0, false],
      ['2.10.27', 0, false],
      ['2.11.0', 0, false], // a 2.11 that reports no level is not taken at its word
      ['2.11.0', 1, true],
      ['2.12.1', 2, true],
      ['2.14.0', 4, true],
      ['2.15.1', 5, true],
    ] as const)
      expect(
        at(version, level).supports(Features.messageTtl),
        `${version} level ${level}`,
      ).to.equal(supported);
  });

  it('says what needs what, and what it is connected to', () => {
    const old = new ServerCapabilities('2.10.27', 0, 'nats://127.0.0.1:4222');
    expect(() => old.require(Features.messageTtl, "per-message TTL on stream 'ORDERS'"))
      .to.throw(ServerTooOldError)
      .with.property(
        'message',
        "per-message TTL on stream 'ORDERS' needs nats-server 2.11 or later (JetStream API level 1); connected to 2.10.27 at nats://127.0.0.1:4222",
      );
    const newer = new ServerCapabilities('2.11.0', 0, 'nats://h:4222');
    expect(() => newer.require(Features.subjectDeleteMarkers, 'markers')).to.throw(
      'markers needs nats-server 2.11 or later (JetStream API level 1); connected to 2.11.0 at nats://h:4222',
    );
    try {
      old.require(Features.messageTtl, 'x');
    } catch (err) {
      expect(err).to.include({ code: 'SERVER_TOO_OLD', feature: 'x', needs: '2.11' });
      expect((err as ServerTooOldError).connected).to.equal('2.10.27');
    }
  });
});

/** A stream of orders, its messages, as another client sees them. */
async function storedCount(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(stream)).state.messages;
}

@Service({ name: 'clerk' })
class Clerk {
  @Endpoint('clerk.ping')
  ping(): string {
    return 'pong';
  }
}

@Service({ name: 'ledger' })
class Ledger {
  static readonly seen: { subject: string; payload: unknown; marker: string | undefined }[] = [];

  @Subscribe('orders.>', { durable: { stream: 'ORDERS' } })
  record(payload: unknown, ctx: MessageContext): void {
    Ledger.seen.push({
      subject: ctx.subject,
      payload,
      marker: ctx.headers.get('Nats-Marker-Reason'),
    });
  }
}

describe('per-message TTL on the newest server @integration', function () {
  this.timeout(60_000);
  const cleanup = new Cleanup();
  const newest = suiteServer('sid');
  afterEach(() => cleanup.run());

  it('keeps a message its own time, or forever past maxAge, when the stream allows it', async () => {
    const app = cleanup.add(
      await startApp(newest.server, {
        services: [Clerk],
        streams: [{ name: 'ORDERS', subjects: ['orders.>'], maxAge: '3s', allowMsgTtl: true }],
      }),
      (a) => a.stop(),
    );
    const jsm = await newest.client.jetstreamManager();
    const config = (await jsm.streams.info('ORDERS')).config as { allow_msg_ttl?: boolean };
    expect(config.allow_msg_ttl).to.equal(true);
    const short = await app.bus.publish('orders.a', { id: 'a' }, { durable: true, ttl: '1s' });
    const kept = await app.bus.publish('orders.b', { id: 'b' }, { durable: true, ttl: 'never' });
    expect(await storedCount(newest.client, 'ORDERS')).to.equal(2);
    const message = await jsm.streams.getMessage('ORDERS', { seq: short.sequence });
    expect(message.header.get('Nats-TTL')).to.equal('1s');
    await waitFor(async () => (await storedCount(newest.client, 'ORDERS')) === 1, {
      timeout: 5_000,
    });
    // Past the stream's maxAge of 3 s, the message published with `never` is still there.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect((await jsm.streams.getMessage('ORDERS', { seq: kept.sequence })).subject).to.equal(
      'orders.b',
    );
  });

  it('leaves a subject delete marker a durable handler sees, with the reason in a header', async () => {
    Ledger.seen.length = 0;
    const stream: StreamDeclaration = {
      name: 'ORDERS',
      subjects: ['orders.>'],
      maxAge: '1s',
      subjectDeleteMarkerTtl: '10s',
    };
    const jsm = await newest.client.jetstreamManager();
    await jsm.streams.delete('ORDERS').catch(() => undefined);
    const app = cleanup.add(
      await startApp(newest.server, { services: [Ledger], streams: [stream] }),
      (a) => a.stop(),
    );
    await app.bus.publish('orders.c', { id: 'c' }, { durable: true });
    await waitFor(() => Ledger.seen.length === 2, { timeout: 10_000 });
    expect(Ledger.seen).to.deep.equal([
      { subject: 'orders.c', payload: { id: 'c' }, marker: undefined },
      { subject: 'orders.c', payload: undefined, marker: 'MaxAge' },
    ]);
  });

  it('refuses a ttl that is no whole number of seconds before anything is sent, and relays the stream refusing one', async () => {
    const jsm = await newest.client.jetstreamManager();
    await jsm.streams.delete('ORDERS').catch(() => undefined);
    const app = cleanup.add(
      await startApp(newest.server, {
        services: [Clerk],
        streams: [{ name: 'ORDERS', subjects: ['orders.>'] }],
      }),
      (a) => a.stop(),
    );
    for (const ttl of ['500ms', 1_500, 'soon', -1])
      await app.bus.publish('orders.d', {}, { durable: true, ttl }).then(
        () => expect.fail(`ttl ${String(ttl)} was taken`),
        (err: unknown) => expect(err, String(ttl)).to.be.instanceOf(InvalidOptionError),
      );
    expect(await storedCount(newest.client, 'ORDERS')).to.equal(0);
    // The stream does not allow TTLs: the server says so, and Brigade passes it on.
    const refused = await app.bus.publish('orders.d', {}, { durable: true, ttl: '5s' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(JetStreamError);
    expect((refused as Error).message).to.match(/durable publish to 'orders.d' failed: .*ttl/i);
  });
});

for (const suite of ['trixie', 'bookworm'] as const satisfies readonly NatsServerSuite[]) {
  describe(`per-message TTL refused on Debian ${suite}'s server @integration`, function () {
    this.timeout(60_000);
    const older = suiteServer(suite);

    it('fails the start of an app that declares it, naming the versions, with nothing created', async () => {
      const failed = await startRefusal(older, {
        services: [Clerk],
        streams: [{ name: 'ORDERS', subjects: ['orders.>'], allowMsgTtl: true }],
      });
      expect(failed).to.be.instanceOf(ServerTooOldError);
      expect((failed as Error).message).to.equal(
        `per-message TTL on stream 'ORDERS' needs nats-server 2.11 or later (JetStream API level 1); connected to ${older.version} at ${older.address}`,
      );
      const nc = await connect({ servers: older.server.url });
      const jsm = await nc.jetstreamManager();
      expect(await jsm.streams.names().next()).to.deep.equal([]);
      await nc.close();
    });

    it('refuses a publish with ttl before sending it', async () => {
      const app = await startApp(older.server, {
        services: [Clerk],
        streams: [{ name: 'ORDERS', subjects: ['orders.>'] }],
      });
      try {
        const failed = await rejectionOf(
          app.bus.publish('orders.e', {}, { durable: true, ttl: '5s' }),
        );
        expect(failed).to.be.instanceOf(ServerTooOldError);
        expect((failed as Error).message).to.match(
          new RegExp(
            `^a durable publish with ttl needs nats-server 2.11 or later .*connected to ${older.version.replace(/\./g, '\\.')}`,
          ),
        );
        const nc = await connect({ servers: older.server.url });
        expect(await storedCount(nc, 'ORDERS')).to.equal(0);
        await nc.close();
      } finally {
        await app.stop();
      }
    });
  });
}
