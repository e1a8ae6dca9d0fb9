import 'reflect-metadata';
import { expect } from 'chai';
import { connect, JSONCodec } from 'nats';
import {
  Brigade,
  Bus,
  ConnectionError,
  Endpoint,
  NotRunningError,
  Service,
  Subscribe,
  type MessageContext,
} from '@brigade/core';
import { NatsServer, startApp, waitFor } from '@brigade/testing';
import { serverPerTest } from './support/server-per-test';
import { captureLogs } from './support/log-capture';

const json = JSONCodec();

describe('lifecycle @integration', () => {
  const bed = serverPerTest();
  const { cleanup } = bed;

  it('resolves start() once every subscription is live on the server', async () => {
    const seen: string[] = [];
    @Service({ name: 'live' })
    class Live {
      @Subscribe('live.a')
      a(): void {
        seen.push('a');
      }

      @Subscribe('live.b', { queue: false })
      b(): void {
        seen.push('b');
      }
    }
    cleanup.add(await startApp(bed.server, { services: [Live] }), (a) => a.stop());
    // Core NATS drops what nobody subscribes to: these arrive only if the SUBs reached the bed.server.
    bed.client.publish('live.a');
    bed.client.publish('live.b');
    await waitFor(() => seen.length === 2);
    expect(seen.sort()).to.deep.equal(['a', 'b']);
  });

  it('finishes all 200 in-flight handlers on stop(), delivering their replies and publishes', async () => {
    let inFlight = 0;
    @Service({ name: 'slow', concurrency: 500 })
    class Slow {
      constructor(private readonly bus: Bus) {}

      @Endpoint('slow.ask')
      async ask(n: number): Promise<number> {
        inFlight++;
        await new Promise((resolve) => setTimeout(resolve, 300));
        return n;
      }

      @Subscribe('slow.event')
      async event(n: number): Promise<void> {
        inFlight++;
        await new Promise((resolve) => setTimeout(resolve, 300));
        await this.bus.publish('slow.done', n);
      }
    }
    const app = await startApp(bed.server, { services: [Slow] });
    const done: number[] = [];
    bed.client.subscribe('slow.done', {
      callback: (_e, m) => done.push(json.decode(m.data) as number),
    });
    const requests = Array.from({ length: 100 }, (_, n) =>
      bed.client.request('slow.ask', json.encode(n), { timeout: 10_000 }),
    );
    for (let n = 0; n < 100; n++) bed.client.publish('slow.event', json.encode(n));
    await waitFor(() => inFlight === 200);
    await app.stop();
    const replies = await Promise.all(requests);
    expect(replies.map((r) => json.decode(r.data))).to.deep.equal(
      Array.from({ length: 100 }, (_, n) => n),
    );
    await waitFor(() => done.length === 100, {
      message: 'every publish made while stopping arrived',
    });
    expect(done.sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 100 }, (_, n) => n));
  });

  it('takes no new messages once stopped, and the Bus refuses to send', async () => {
    const seen: number[] = [];
    @Service({ name: 'closed' })
    class Closed {
      @Subscribe('closed.event')
      event(n: number): void {
        seen.push(n);
      }
    }
    const app = await startApp(bed.server, { services: [Closed] });
    await app.stop();
    await app.stop(); // idempotent
    bed.client.publish('closed.event', json.encode(1));
    const failure = await bed.client
      .request('closed.event', json.encode(2))
      .catch((e: { code: string }) => e.code);
    expect(failure, 'nobody subscribes any more').to.equal('503');
    expect(seen).to.deep.equal([]);
    const refused = await app.bus.publish('closed.event', 3).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(NotRunningError);
  });

  it('aborts handlers that outlive the grace period and answers waiting requests 503', async () => {
    let signal: AbortSignal | undefined;
    @Service({ name: 'stuck', concurrency: 1 })
    class Stuck {
      @Endpoint('stuck.ask')
      async ask(_: unknown, ctx: MessageContext): Promise<string> {
        signal = ctx.signal;
        await new Promise((resolve) =>
          ctx.signal.addEventListener('abort', resolve, { once: true }),
        );
        return 'aborted';
      }
    }
    const app = await startApp(bed.server, { services: [Stuck], shutdownGraceMs: 100 });
    const first = bed.client.request('stuck.ask', json.encode(1), { timeout: 5_000 });
    const second = bed.client.request('stuck.ask', json.encode(2), { timeout: 5_000 });
    await waitFor(() => signal !== undefined && app.stats()[0]?.stats.numRequests === 0);
    await bed.client.flush();
    const started = Date.now();
    await app.stop();
    expect(Date.now() - started).to.be.below(2_000);
    expect(signal?.aborted).to.equal(true);
    expect((await first).string()).to.equal('"aborted"');
    expect((await second).headers?.get('Nats-Service-Error-Code')).to.equal('503');
  });

  it('logs reconnects and keeps its subscriptions across a server restart', async () => {
    const logs = captureLogs();
    @Service({ name: 'sturdy' })
    class Sturdy {
      @Endpoint('sturdy.ping')
      ping(): string {
        return 'pong';
      }
    }
    cleanup.add(
      await startApp(bed.server, {
        services: [Sturdy],
        logger: { instance: logs.logger },
        nats: { reconnectTimeWaitMs: 50 },
      }),
      (a) => a.stop(),
    );
    await bed.server.restart();
    await waitFor(
      () => logs.lines.some((l) => l['msg'] === 'reconnected to NATS; subscriptions restored'),
      {
        timeout: 10_000,
      },
    );
    const fresh = cleanup.add(await connect({ servers: bed.server.url }), (nc) => nc.close());
    expect((await fresh.request('sturdy.ping')).string()).to.equal('"pong"');
    expect(logs.lines.some((l) => String(l['msg']).startsWith('disconnected from NATS'))).to.equal(
      true,
    );
  });

  describe('connection options', () => {
    @Service({ name: 'guarded' })
    class Guarded {
      @Endpoint('guarded.ping')
      ping(): string {
        return 'pong';
      }
    }

    it('connects with the token a server requires', async () => {
      const secured = cleanup.add(await NatsServer.start({ token: 's3cret' }), (s) => s.stop());
      const app = cleanup.add(
        await startApp(secured, { services: [Guarded], nats: { token: 's3cret' } }),
        (a) => a.stop(),
      );
      expect(await app.bus.request('guarded.ping')).to.equal('pong');
    });

    it('fails start with a clear error on a wrong or missing token', async () => {
      const secured = cleanup.add(await NatsServer.start({ token: 's3cret' }), (s) => s.stop());
      for (const token of ['wrong', undefined]) {
        const failure = await startApp(secured, { services: [Guarded], nats: { token } }).catch(
          (e: unknown) => e,
        );
        expect(failure).to.be.instanceOf(ConnectionError);
        expect((failure as Error).message)
          .to.include(secured.url)
          .and.include('authorization violation');
      }
    });

    it('fails start with a clear error when nothing listens', async () => {
      const port = bed.server.port;
      await bed.server.stop();
      const failure = await Brigade.start({
        services: [Guarded],
        nats: { servers: `127.0.0.1:${port}` },
        logger: { level: 'silent' },
      }).catch((e: unknown) => e);
      expect(failure).to.be.instanceOf(ConnectionError);
      expect((failure as Error).message)
        .to.include(`127.0.0.1:${port}`)
        .and.include('connection refused');
    });
  });
});
