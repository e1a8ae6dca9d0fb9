import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, headers as createHeaders, type NatsConnection } from 'nats';
import {
  Bus,
  Endpoint,
  InvalidKeyError,
  InvalidSubjectError,
  KeyValueStores,
  type KeyValueBucket,
  REQUEST_TIMEOUT,
  Service,
  Subscribe,
  type BrigadeApp,
  type MessageContext,
} from '@brigade/core';
import { Cleanup, NatsServer, startApp, waitFor } from '@brigade/testing';

const encoder = new TextEncoder();

/** The error code and message of a reply, or 'ok'. */
function outcome(reply: { headers?: { get(name: string): string } }): string {
  const code = reply.headers?.get('Nats-Service-Error-Code');
  return code ? `${code} ${reply.headers?.get('Nats-Service-Error') ?? ''}` : 'ok';
}

describe('client faults are 4xx, outages 503 @integration', () => {
  const cleanup = new Cleanup();
  let server: NatsServer;
  let client: NatsConnection;
  const signals: AbortSignal[] = [];

  @Service({ name: 'faults' })
  class Faults {
    constructor(
      private readonly bus: Bus,
      private readonly stores: KeyValueStores,
    ) {}

    @Endpoint('faults.wait')
    async wait(ms: number, ctx: MessageContext): Promise<string> {
      await sleep(ms, undefined, { signal: ctx.signal });
      return 'waited';
    }

    @Endpoint('faults.fetch')
    async fetch(ms: number, ctx: MessageContext): Promise<string> {
      // Like fetch(url, { signal }): rejects with the signal's own reason.
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('the upstream call was cancelled'));
        });
      });
      return 'fetched';
    }

    @Endpoint('faults.ping')
    ping(): string {
      return 'pong';
    }

    @Subscribe('faults.event')
    event(_body: unknown, ctx: MessageContext): void {
      signals.push(ctx.signal);
    }

    private bucket: Promise<KeyValueBucket<unknown>> | undefined;

    @Endpoint('faults.kv')
    async kv(key: string): Promise<unknown> {
      this.bucket ??= this.stores.open('faults');
      return (await (await this.bucket).get(key)) ?? null;
    }

    @Endpoint('faults.forward')
    async forward(target: string): Promise<unknown> {
      return this.bus.request(target, {}, { timeout: 200 });
    }

    @Endpoint('faults.store')
    async store(): Promise<unknown> {
      return this.bus.publish('kept.one', {}, { durable: true, timeout: 500 });
    }
  }

  beforeEach(async () => {
    signals.length = 0;
    server = cleanup.add(await NatsServer.start({ jetstream: true }), (s) => s.stop());
    client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
  });
  afterEach(() => cleanup.run());

  function start(): Promise<BrigadeApp> {
    return startApp(server, {
      services: [Faults],
      streams: [{ name: 'KEPT', subjects: ['kept.>'] }],
      nats: { reconnectTimeWaitMs: 50 },
      shutdownGraceMs: 100,
    }).then((app) => cleanup.add(app, (a) => a.stop()));
  }

  function request(subject: string, body: unknown, timeoutHeader?: string) {
    const hdrs = createHeaders();
    if (timeoutHeader !== undefined) hdrs.set(REQUEST_TIMEOUT, timeoutHeader);
    return client.request(subject, encoder.encode(JSON.stringify(body)), {
      timeout: 5_000,
      headers: hdrs,
    });
  }

  describe('deadline headers', () => {
    it('clamps absurdly long deadlines instead of overflowing the timer', async () => {
      await start();
      for (const value of [String(2 ** 31), String(2 ** 32), '1e300', 'Infinity']) {
        const reply = await request('faults.wait', 20, value);
        expect(outcome(reply), value).to.equal('ok');
        expect(reply.json(), value).to.equal('waited');
      }
    });

    it('refuses a deadline that is not a positive number of milliseconds with 400', async () => {
      await start();
      for (const value of ['soon', '0', '-5', '12abc']) {
        const reply = await request('faults.wait', 1, value);
        expect(outcome(reply), value).to.match(/^400 brigade-timeout-ms must be a positive number/);
      }
    });

    it("answers 408 when the handler gives up at the caller's deadline", async () => {
      await start();
      expect(outcome(await request('faults.wait', 5_000, '100'))).to.equal(
        "408 the caller's deadline passed",
      );
      expect(outcome(await request('faults.fetch', 5_000, '100'))).to.equal(
        "408 the caller's deadline passed",
      );
    });

    it('answers 503 when the handler gives up because the app shuts down', async () => {
      const app = await start();
      const pending = request('faults.fetch', 60_000);
      await waitFor(() =>
        app.stats().some((s) => s.handler.name === 'fetch' && s.stats.numRequests === 0),
      );
      await sleep(20);
      await app.stop();
      expect(outcome(await pending)).to.equal('503 the service is shutting down');
    });

    it('gives events no deadline, whatever header they carry', async () => {
      await start();
      const hdrs = createHeaders();
      hdrs.set(REQUEST_TIMEOUT, '1');
      client.publish('faults.event', encoder.encode('{}'), { headers: hdrs });
      await waitFor(() => signals.length === 1);
      await sleep(50);
      expect(signals[0]?.aborted).to.equal(false);
    });
  });

  describe('keys and subjects', () => {
    it('refuses keys a bucket cannot hold with 400, before anything is sent', async () => {
      const app = await start();
      for (const key of ['a b', 'ünïcode', '.lead', 'trail.', 'a..b', '', 'k'.repeat(5_000)]) {
        const reply = await request('faults.kv', key);
        expect(outcome(reply), key.slice(0, 20)).to.match(/^400 invalid key/);
      }
      const bucket = await app.keyValues.open('faults');
      const failure = await bucket.put('x'.repeat(5_000), 1).catch((e: unknown) => e);
      expect(failure).to.be.instanceOf(InvalidKeyError);
      expect((failure as Error).message.length).to.be.below(300);
      // The connection is still up: nothing overran the server's control line.
      expect(outcome(await request('faults.kv', 'fine-key'))).to.equal('ok');
    });

    it('refuses subjects too long for the control line with 400', async () => {
      const app = await start();
      const long = `orders.${'x'.repeat(5_000)}`;
      const failure = await app.bus.publish(long, {}).catch((e: unknown) => e);
      expect(failure).to.be.instanceOf(InvalidSubjectError);
      expect(outcome(await request('faults.forward', long))).to.match(
        /^400 cannot send to subject 'orders\.x+… \(5007 characters\)': a subject may be at most 2048 bytes/,
      );
      expect(outcome(await request('faults.forward', 'faults.ping'))).to.equal('ok');
    });
  });

  describe('outages', () => {
    it('answers 503 when a service the handler calls is not running or too slow', async () => {
      await start();
      expect(outcome(await request('faults.forward', 'nobody.home'))).to.equal(
        '503 a service it depends on is not running',
      );
      const silent = client.subscribe('silent.one');
      cleanup.add(silent, (s) => s.unsubscribe());
      await client.flush();
      expect(outcome(await request('faults.forward', 'silent.one'))).to.equal(
        '503 a service it depends on did not answer in time',
      );
    });

    it('answers 503 when JetStream is gone: key-value reads and durable publishes', async () => {
      const app = await start();
      expect(outcome(await request('faults.kv', 'k'))).to.equal('ok');
      const { port } = server;
      await server.stop();
      const bare = cleanup.add(await NatsServer.start({ port }), (s) => s.stop());
      // Both the app and the plain client are back once the app answers its Service API again.
      await waitFor(() => client.request('$SRV.PING.faults', undefined, { timeout: 200 }), {
        timeout: 10_000,
        message: 'the app to reconnect to a server without JetStream',
      });
      expect(bare.isRunning).to.equal(true);
      expect(outcome(await request('faults.kv', 'k'))).to.match(
        /^503 cannot read a key in key-value bucket 'faults' now: JetStream is unavailable/,
      );
      expect(outcome(await request('faults.store', null))).to.equal(
        '503 durable storage (JetStream) is unavailable',
      );
      // Closed while the server still runs: closing in the instant a server vanishes can leave the
      // nats client reconnecting in the background, which would keep mocha alive.
      await app.stop();
      await client.close();
    });
  });
});
