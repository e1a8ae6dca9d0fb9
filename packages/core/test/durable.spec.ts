import { expect } from 'chai';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import {
  Bus,
  DeadLetterNotFoundError,
  JetStreamError,
  NoStreamError,
  PermanentError,
  Service,
  Subscribe,
  ValidationError,
  type BrigadeOptions,
  type MessageContext,
  type StreamDeclaration,
} from '@brigade/core';
import { Cleanup, NatsServer, startApp, waitFor } from '@brigade/testing';
import { consumerState, ids, publishEvents } from './support/jetstream';
import {
  DeadLetterWriter,
  JetStreamContext,
  NatsTransport,
  defineDeadLetters,
} from '@brigade/core/internal';

const json = JSONCodec();
const ORDERS: StreamDeclaration = { name: 'ORDERS', subjects: ['orders.>'] };

describe('durable events @integration', () => {
  const cleanup = new Cleanup();
  let server: NatsServer;
  let client: NatsConnection;

  beforeEach(async () => {
    server = cleanup.add(await NatsServer.start({ jetstream: true }), (s) => s.stop());
    client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
  });
  afterEach(() => cleanup.run());

  function start(options: Partial<BrigadeOptions> & Pick<BrigadeOptions, 'services'>) {
    return startApp(server, { streams: [ORDERS], ...options }).then((app) =>
      cleanup.add(app, (a) => a.stop()),
    );
  }

  describe('provisioning', () => {
    @Service({ name: 'plain' })
    class Plain {}

    it('creates declared streams, leaves them alone when unchanged and updates them when changed', async () => {
      const jsm = await client.jetstreamManager();
      await start({ services: [Plain], streams: [{ ...ORDERS, maxAge: '1h', maxMsgs: 100 }] });
      const created = (await jsm.streams.info('ORDERS')).config;
      expect(created).to.include({ max_msgs: 100, max_age: 3_600_000_000_000, storage: 'file' });
      await start({ services: [Plain], streams: [{ ...ORDERS, maxAge: '1h', maxMsgs: 100 }] });
      await start({
        services: [Plain],
        streams: [{ ...ORDERS, subjects: ['orders.>', 'refunds.>'], maxAge: '2h' }],
      });
      const updated = (await jsm.streams.info('ORDERS')).config;
      expect(updated.subjects).to.deep.equal(['orders.>', 'refunds.>']);
      expect(updated).to.include({ max_msgs: -1, max_age: 7_200_000_000_000 });
    });

    it('refuses an incompatible change with a clear error', async () => {
      await start({ services: [Plain] });
      const failure = await start({
        services: [Plain],
        streams: [{ ...ORDERS, storage: 'memory' }],
      }).catch((e: unknown) => e);
      expect(failure).to.be.instanceOf(JetStreamError);
      expect((failure as Error).message)
        .to.include("stream 'ORDERS' exists with file storage")
        .and.include('memory');
    });

    it('names the handler when its stream is missing or does not store its subject', async () => {
      @Service({ name: 'lost' })
      class Lost {
        @Subscribe('orders.placed', { durable: { stream: 'NOWHERE' } })
        cook(): void {}
      }
      const missing = await start({ services: [Lost] }).catch((e: unknown) => e);
      expect(missing).to.be.instanceOf(JetStreamError);
      expect((missing as Error).message).to.include(
        "Lost.cook reads stream 'NOWHERE', which does not exist",
      );
      @Service({ name: 'stray' })
      class Stray {
        @Subscribe('menu.changed', { durable: { stream: 'ORDERS' } })
        read(): void {}
      }
      const uncovered = await start({ services: [Stray] }).catch((e: unknown) => e);
      expect((uncovered as Error).message).to.include(
        "Stray.read subscribes to 'menu.changed', which stream 'ORDERS' does not store",
      );
    });

    it('says how to enable JetStream when the server runs without it', async () => {
      const bare = cleanup.add(await NatsServer.start(), (s) => s.stop());
      const failure = await startApp(bare, { services: [Plain], streams: [ORDERS] }).catch(
        (e: unknown) => e,
      );
      expect(failure).to.be.instanceOf(JetStreamError);
      expect((failure as Error).message).to.include('start nats-server with -js');
    });

    it('creates one durable pull consumer per handler, named from service and handler', async () => {
      @Service({ name: 'kitchen' })
      class Kitchen {
        @Subscribe('orders.placed', {
          durable: { stream: 'ORDERS', maxDeliver: 4, ackWait: '10s' },
        })
        cook(): void {}
      }
      await start({ services: [Kitchen] });
      await start({ services: [Kitchen] }); // a second instance reuses it
      const info = await (await client.jetstreamManager()).consumers.info('ORDERS', 'kitchen_cook');
      expect(info.config).to.include({
        durable_name: 'kitchen_cook',
        filter_subject: 'orders.placed',
        max_deliver: 4,
        ack_wait: 10_000_000_000,
        ack_policy: 'explicit',
      });
      expect(info.config.deliver_subject).to.equal(undefined);
      const dlq = await (await client.jetstreamManager()).streams.info('DEAD_LETTERS');
      expect(dlq.config.subjects).to.deep.equal(['dlq.>']);
    });
  });

  describe('publishing', () => {
    @Service({ name: 'publisher' })
    class Publisher {}

    it('awaits the stream acknowledgement and de-duplicates by Nats-Msg-Id', async () => {
      const app = await start({ services: [Publisher] });
      const first = await app.bus.publish(
        'orders.placed',
        { id: 'o-1' },
        { durable: true, msgId: 'o-1' },
      );
      const again = await app.bus.publish(
        'orders.placed',
        { id: 'o-1' },
        { durable: true, msgId: 'o-1' },
      );
      expect(first).to.deep.equal({ stream: 'ORDERS', sequence: 1, duplicate: false });
      expect(again).to.deep.equal({ stream: 'ORDERS', sequence: 1, duplicate: true });
      const other = await app.bus.publish('orders.placed', { id: 'o-2' }, { durable: true });
      expect(other.sequence).to.equal(2);
      expect(
        (await (await client.jetstreamManager()).streams.info('ORDERS')).state.messages,
      ).to.equal(2);
    });

    it('rejects a durable publish no stream stores, instead of dropping it', async () => {
      const app = await start({ services: [Publisher] });
      const failure = await app.bus
        .publish('menu.changed', {}, { durable: true })
        .catch((e: unknown) => e);
      expect(failure).to.be.instanceOf(NoStreamError);
      expect((failure as Error).message).to.include("no stream stores subject 'menu.changed'");
    });
  });

  describe('consuming', () => {
    it('handles all 1,000 events published while no consumer ran, each once', async () => {
      const handled = new Map<string, number>();
      @Service({ name: 'late' })
      class Late {
        @Subscribe('orders.placed', { durable: { stream: 'ORDERS' } })
        cook(order: { id: string }): void {
          handled.set(order.id, (handled.get(order.id) ?? 0) + 1);
        }
      }
      @Service({ name: 'setup' })
      class Setup {}
      await start({ services: [Setup] }); // provisions the stream
      await publishEvents(client, 'orders.placed', ids('o', 1000));
      await start({ services: [Late] });
      await waitFor(() => handled.size === 1000, { timeout: 15_000 });
      await waitFor(
        async () => (await consumerState(client, 'ORDERS', 'late_cook')).ackPending === 0,
      );
      expect([...handled.values()].every((n) => n === 1)).to.equal(true);
      expect(await consumerState(client, 'ORDERS', 'late_cook')).to.deep.equal({
        pending: 0,
        ackPending: 0,
        redelivered: 0,
      });
    });

    it('splits one durable consumer between two instances, the union complete', async () => {
      const byInstance = new Map<object, Set<string>>();
      @Service({ name: 'pair' })
      class Pair {
        @Subscribe('orders.placed', { durable: { stream: 'ORDERS' }, concurrency: 8 })
        async cook(order: { id: string }): Promise<void> {
          if (!byInstance.has(this)) byInstance.set(this, new Set());
          byInstance.get(this)?.add(order.id);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }
      await start({ services: [Pair] });
      await start({ services: [Pair] });
      await publishEvents(client, 'orders.placed', ids('o', 400));
      await waitFor(() => [...byInstance.values()].reduce((n, s) => n + s.size, 0) >= 400, {
        timeout: 15_000,
      });
      const [one, two] = [...byInstance.values()];
      expect(byInstance.size).to.equal(2);
      expect(one?.size).to.be.greaterThan(0);
      expect(two?.size).to.be.greaterThan(0);
      expect(new Set([...(one ?? []), ...(two ?? [])]).size).to.equal(400);
    });

    it('exposes the delivery count and stream sequence, and waits the backoff before redelivering', async () => {
      const seen: [number | undefined, number | undefined][] = [];
      const at: number[] = [];
      @Service({ name: 'counted' })
      class Counted {
        @Subscribe('orders.placed', { durable: { stream: 'ORDERS', backoff: [400, 800] } })
        cook(_: unknown, ctx: MessageContext): void {
          seen.push([ctx.deliveryCount, ctx.sequence]);
          at.push(performance.now());
          if ((ctx.deliveryCount ?? 0) < 3) throw new Error('not yet');
        }
      }
      await start({ services: [Counted] });
      await publishEvents(client, 'orders.placed', ['a']);
      await waitFor(() => seen.length === 3, { timeout: 5_000 });
      expect(seen).to.deep.equal([
        [1, 1],
        [2, 1],
        [3, 1],
      ]);
      const [first = 0, second = 0, third = 0] = at;
      expect(second - first, 'first backoff').to.be.within(380, 1_500);
      expect(third - second, 'second backoff').to.be.within(780, 2_000);
    });

    it('keeps a handler longer than ackWait from being redelivered, with working()', async () => {
      let runs = 0;
      @Service({ name: 'patient' })
      class Patient {
        @Subscribe('orders.placed', { durable: { stream: 'ORDERS', ackWait: '1s' } })
        async cook(): Promise<void> {
          runs++;
          await new Promise((resolve) => setTimeout(resolve, 2_500));
        }
      }
      await start({ services: [Patient] });
      await publishEvents(client, 'orders.placed', ['slow']);
      await waitFor(
        async () =>
          runs === 1 && (await consumerState(client, 'ORDERS', 'patient_cook')).ackPending === 0,
        {
          timeout: 6_000,
        },
      );
      expect(runs).to.equal(1);
      expect((await consumerState(client, 'ORDERS', 'patient_cook')).redelivered).to.equal(0);
    });

    it('finishes and acks in-flight handlers on stop()', async () => {
      let started = 0;
      let finished = 0;
      @Service({ name: 'draining' })
      class Draining {
        @Subscribe('orders.placed', { durable: { stream: 'ORDERS' }, concurrency: 50 })
        async cook(): Promise<void> {
          started++;
          await new Promise((resolve) => setTimeout(resolve, 300));
          finished++;
        }
      }
      const app = await startApp(server, { services: [Draining], streams: [ORDERS] });
      await publishEvents(client, 'orders.placed', ids('o', 50));
      await waitFor(() => started === 50);
      await app.stop();
      expect(finished).to.equal(50);
      expect(await consumerState(client, 'ORDERS', 'draining_cook')).to.deep.equal({
        pending: 0,
        ackPending: 0,
        redelivered: 0,
      });
    });

    it('finishes the stream after nats-server restarts on the same store', async () => {
      const handled = new Set<string>();
      @Service({ name: 'steady' })
      class Steady {
        @Subscribe('orders.placed', {
          durable: { stream: 'ORDERS', ackWait: '2s' },
          concurrency: 4,
        })
        async cook(order: { id: string }): Promise<void> {
          await new Promise((resolve) => setTimeout(resolve, 5));
          handled.add(order.id);
        }
      }
      await start({ services: [Steady], nats: { reconnectTimeWaitMs: 50 } });
      await publishEvents(client, 'orders.placed', ids('o', 300));
      await waitFor(() => handled.size >= 60, { timeout: 10_000 });
      await server.restart();
      await waitFor(() => handled.size === 300, {
        timeout: 30_000,
        message: 'every event handled after the restart',
      });
    });
  });

  describe('lost pulls', () => {
    it('notices pulls lost in a server restart by their missing heartbeats and pulls again', async () => {
      const arrived = new Map<string, number>();
      @Service({ name: 'watchful' })
      class Watchful {
        @Subscribe('orders.placed', { durable: { stream: 'ORDERS' } })
        cook(order: { id: string }): void {
          arrived.set(order.id, performance.now());
        }
      }
      await start({ services: [Watchful], nats: { reconnectTimeWaitMs: 50 } });
      // Pull requests are plain messages on the consumer's API subject: a watcher sees each go out.
      const pulls: Array<{ expires?: number; idle_heartbeat?: number }> = [];
      client.subscribe('$JS.API.CONSUMER.MSG.NEXT.ORDERS.watchful_cook', {
        callback: (_err, msg) => pulls.push(json.decode(msg.data) as (typeof pulls)[number]),
      });
      await client.flush();
      // Restart the server just after a fresh pull went out: the server forgets it with ~5 s to
      // run, which the client alone would notice only after it expired.
      const seen = pulls.length;
      await waitFor(() => pulls.length > seen, { timeout: 8_000, message: 'a fresh pull request' });
      expect(pulls.at(-1)).to.include({ expires: 5e9, idle_heartbeat: 1e9 });
      await server.restart();
      const back = performance.now();
      const producer = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
      await waitFor(() => publishEvents(producer, 'orders.placed', ['after']).then(() => true), {
        timeout: 10_000,
        interval: 100,
        message: 'JetStream to take a publish after the restart',
      });
      const published = performance.now();
      await waitFor(() => arrived.get('after'), { timeout: 15_000, message: 'the event handled' });
      const handledAt = arrived.get('after') as number;
      console.log(
        `      lost pull: handled ${Math.round(handledAt - back)} ms after the server was back, ` +
          `${Math.round(handledAt - published)} ms after its publish (heartbeat 1 s, two missed)`,
      );
      // Two silent beats after the reconnect, at most one more to the next beat, and slack.
      expect(handledAt - back).to.be.below(4_500);
    });
  });

  describe('failures and dead letters', () => {
    it('retries with backoff, dead-letters a poison message after maxDeliver while the rest flow, and replays it', async () => {
      const attempts: number[] = [];
      const good = new Set<string>();
      let cured = false;
      @Service({ name: 'picky' })
      class Picky {
        @Subscribe('orders.placed', {
          durable: { stream: 'ORDERS', maxDeliver: 3, backoff: [100, 200] },
        })
        cook(order: { id: string }, ctx: MessageContext): void {
          if (order.id === 'poison' && !cured) {
            attempts.push(ctx.deliveryCount ?? 0);
            throw new Error('cannot cook poison');
          }
          good.add(order.id);
        }
      }
      const app = await start({ services: [Picky] });
      await publishEvents(client, 'orders.placed', ['poison', ...ids('ok', 20)], {
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        'x-table': '9',
      });
      await waitFor(() => good.size === 20);
      const [letter] = await waitFor(async () => {
        const list = await app.deadLetters.list();
        return list.length === 1 ? list : undefined;
      });
      expect(attempts).to.deep.equal([1, 2, 3]);
      expect(letter).to.deep.include({
        reason: 'Error: cannot cook poison',
        code: 500,
        attempts: 3,
        origin: { stream: 'ORDERS', consumer: 'picky_cook', sequence: 1, subject: 'orders.placed' },
      });
      expect(json.decode(letter?.data ?? new Uint8Array())).to.deep.equal({ id: 'poison' });
      expect(letter?.headers['x-table']).to.deep.equal(['9']);
      expect(letter?.headers['traceparent']).to.deep.equal([
        '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      ]);
      expect(letter?.headers['Nats-Msg-Id']).to.equal(undefined);
      expect(await consumerState(client, 'ORDERS', 'picky_cook')).to.include({
        pending: 0,
        ackPending: 0,
      });

      cured = true;
      const replayed = await app.deadLetters.replay(letter?.sequence ?? 0);
      expect(replayed.stream).to.equal('ORDERS');
      await waitFor(() => good.has('poison'));
      expect(await app.deadLetters.list()).to.deep.equal([]);
    });

    it('dead-letters a permanent failure at once', async () => {
      const attempts: number[] = [];
      @Service({ name: 'strict' })
      class Strict {
        @Subscribe('orders.placed', { durable: { stream: 'ORDERS', maxDeliver: 5 } })
        cook(order: { id: string }, ctx: MessageContext): void {
          attempts.push(ctx.deliveryCount ?? 0);
          if (order.id === 'invalid') throw new ValidationError('dishes must not be empty');
          throw new PermanentError('unknown restaurant');
        }
      }
      const app = await start({ services: [Strict] });
      await publishEvents(client, 'orders.placed', ['invalid', 'foreign']);
      const letters = await waitFor(async () => {
        const list = await app.deadLetters.list({ stream: 'ORDERS', consumer: 'strict_cook' });
        return list.length === 2 ? list : undefined;
      });
      expect(attempts).to.deep.equal([1, 1]);
      expect(letters.map((l) => [l.reason, l.code, l.attempts])).to.deep.equal([
        ['ValidationError: dishes must not be empty', 422, 1],
        ['PermanentError: unknown restaurant', 500, 1],
      ]);
      expect(
        await app.deadLetters.list({ stream: 'ORDERS', consumer: 'someone_else' }),
      ).to.deep.equal([]);
    });

    it('dead-letters, through the backstop, a message whose last delivery died with its process', async () => {
      let hung = 0;
      let handledByHealthy = 0;
      @Service({ name: 'fragile' })
      class Fragile {
        @Subscribe('orders.placed', { durable: { stream: 'ORDERS', maxDeliver: 1, ackWait: '1s' } })
        async cook(): Promise<void> {
          hung++;
          await new Promise(() => undefined); // never settles, never acks: as if the process died
        }
      }
      const doomed = await startApp(server, {
        services: [Fragile],
        streams: [ORDERS],
        shutdownGraceMs: 50,
      });
      await publishEvents(client, 'orders.placed', ['lost']);
      await waitFor(() => hung === 1);
      await doomed.stop(); // closes without acking

      @Service({ name: 'fragile' })
      class Healthy {
        @Subscribe('orders.placed', { durable: { stream: 'ORDERS', maxDeliver: 1, ackWait: '1s' } })
        cook(): void {
          handledByHealthy++;
        }
      }
      const healthy = await start({ services: [Healthy] });
      const [letter] = await waitFor(
        async () => {
          const list = await healthy.deadLetters.list();
          return list.length === 1 ? list : undefined;
        },
        { timeout: 10_000, message: 'the backstop dead-lettered the message' },
      );
      expect(letter?.origin).to.deep.equal({
        stream: 'ORDERS',
        consumer: 'fragile_cook',
        sequence: 1,
        subject: 'orders.placed',
      });
      expect(letter?.reason).to.include('without an acknowledgement');
      expect(json.decode(letter?.data ?? new Uint8Array())).to.deep.equal({ id: 'lost' });
      expect(handledByHealthy).to.equal(0);
    });

    it('dead-letters it even when the advisory fires while no instance runs', async () => {
      @Service({ name: 'lonely' })
      class Lonely {
        @Subscribe('orders.placed', { durable: { stream: 'ORDERS', maxDeliver: 1, ackWait: '1s' } })
        async cook(): Promise<void> {
          await new Promise(() => undefined);
        }
      }
      const doomed = await startApp(server, {
        services: [Lonely],
        streams: [ORDERS],
        shutdownGraceMs: 50,
      });
      await publishEvents(client, 'orders.placed', ['orphan']);
      await waitFor(
        async () => (await consumerState(client, 'ORDERS', 'lonely_cook')).ackPending === 1,
      );
      await doomed.stop();
      // With no Brigade instance running, a plain pull after ackWait makes the server give up on
      // the message and emit the advisory now, to nobody but the advisory stream.
      const consumer = await client.jetstream().consumers.get('ORDERS', 'lonely_cook');
      await waitFor(
        async () => {
          const batch = await consumer.fetch({ max_messages: 1, expires: 1_000 });
          for await (const m of batch) m.nak();
          return (await consumerState(client, 'ORDERS', 'lonely_cook')).ackPending === 0;
        },
        { timeout: 10_000 },
      );
      const revived = await start({ services: [Lonely] });
      const [letter] = await waitFor(async () => {
        const list = await revived.deadLetters.list();
        return list.length === 1 ? list : undefined;
      });
      expect(letter?.origin.sequence).to.equal(1);
      expect(json.decode(letter?.data ?? new Uint8Array())).to.deep.equal({ id: 'orphan' });
    });

    it('stores a message dead-lettered twice only once', async () => {
      @Service({ name: 'once' })
      class Once {
        @Subscribe('orders.placed', { durable: { stream: 'ORDERS', maxDeliver: 1 } })
        cook(): void {
          throw new Error('fails');
        }
      }
      const app = await start({ services: [Once] });
      await publishEvents(client, 'orders.placed', ['twice']);
      await waitFor(async () => (await app.deadLetters.list()).length === 1);
      // The backstop racing the handler would write the same origin again.
      const writer = new DeadLetterWriter(
        await JetStreamContext.open(
          cleanup.add(
            await NatsTransport.connect({ servers: server.url }, 'writer', app.logger),
            (t) => t.close(),
          ),
        ),
        defineDeadLetters(undefined),
        app.logger,
      );
      const stored = await (
        await client.jetstreamManager()
      ).streams.getMessage('ORDERS', { seq: 1 });
      await writer.write(
        {
          stream: 'ORDERS',
          consumer: 'once_cook',
          sequence: 1,
          subject: stored.subject,
          headers: stored.header,
          data: stored.data,
        },
        { reason: 'again', code: 500, attempts: 1 },
      );
      const letters = await app.deadLetters.list();
      expect(letters.map((l) => l.reason)).to.deep.equal(['Error: fails']);
    });

    it('finds, deletes and refuses unknown dead letters', async () => {
      @Service({ name: 'doomed' })
      class Doomed {
        @Subscribe('orders.placed', { durable: { stream: 'ORDERS', maxDeliver: 1 } })
        cook(): void {
          throw new Error('always');
        }
      }
      const app = await start({ services: [Doomed] });
      await publishEvents(client, 'orders.placed', ['x']);
      const [letter] = await waitFor(async () => {
        const list = await app.deadLetters.list();
        return list.length === 1 ? list : undefined;
      });
      expect((await app.deadLetters.get(letter?.sequence ?? 0)).reason).to.equal('Error: always');
      await app.deadLetters.delete(letter?.sequence ?? 0);
      expect(await app.deadLetters.list()).to.deep.equal([]);
      const missing = await app.deadLetters.get(999).catch((e: unknown) => e);
      expect(missing).to.be.instanceOf(DeadLetterNotFoundError);
    });
  });

  describe('retention', () => {
    it('removes messages older than max_age', async () => {
      @Service({ name: 'retainer' })
      class Retainer {}
      await start({
        services: [Retainer],
        streams: [{ name: 'SHORT', subjects: ['short.>'], maxAge: '1s' }],
      });
      await publishEvents(client, 'short.lived', ids('s', 5));
      const jsm = await client.jetstreamManager();
      expect((await jsm.streams.info('SHORT')).state.messages).to.equal(5);
      await waitFor(async () => (await jsm.streams.info('SHORT')).state.messages === 0, {
        timeout: 5_000,
      });
    });
  });

  it('injects the Bus for durable publishing from a handler', async () => {
    const cooked: string[] = [];
    @Service({ name: 'chain' })
    class Chain {
      constructor(private readonly bus: Bus) {}

      @Subscribe('orders.placed', { durable: { stream: 'ORDERS' } })
      async cook(order: { id: string }): Promise<void> {
        await this.bus.publish('orders.cooked', order, {
          durable: true,
          msgId: `cooked-${order.id}`,
        });
      }

      @Subscribe('orders.cooked', { durable: { stream: 'ORDERS' } })
      served(order: { id: string }): void {
        cooked.push(order.id);
      }
    }
    await start({ services: [Chain] });
    await publishEvents(client, 'orders.placed', ['o-1', 'o-2']);
    await waitFor(() => cooked.length === 2);
    expect(cooked.sort()).to.deep.equal(['o-1', 'o-2']);
  });
});
