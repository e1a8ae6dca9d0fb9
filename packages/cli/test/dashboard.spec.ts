import { expect } from 'chai';
import { get, type IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect, type NatsConnection } from 'nats';
import { BrigadeClient, Endpoint, Service, Subscribe } from '@brigade/core';
import { Cleanup, NatsServer, startApp, waitFor } from '@brigade/testing';
import {
  DashboardCollector,
  type CollectorSettings,
  type Snapshot,
} from '../src/dashboard/collector';
import { DashboardServer } from '../src/dashboard/server';
import { brigade } from './run-cli';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

@Service({ name: 'greeter', version: '1.2.3', description: 'greets' })
class Greeter {
  @Endpoint('greeter.hello')
  hello(name: string): string {
    return `hello ${name}`;
  }

  @Subscribe('visits.logged', { durable: { stream: 'VISITS' } })
  visited(): void {}
}

@Service({ name: 'hello', version: '1.0.0' })
class Hello {
  @Endpoint('hello.say')
  say(): string {
    return 'hello';
  }
}

/** A page following the live feed: counts the snapshots it got. */
function follow(url: string, cleanup: Cleanup): { frames: () => number } {
  let frames = 0;
  get(`${url}events`, (res: IncomingMessage) => {
    cleanup.add(res, (r) => r.destroy());
    res.on('data', (chunk: Buffer) => (frames += chunk.toString().split('data: ').length - 1));
  });
  return { frames: () => frames };
}

describe('brigade dashboard: what it costs @integration', function () {
  this.timeout(60_000);
  const cleanup = new Cleanup();
  let server: NatsServer;
  let nc: NatsConnection;

  /** A collector polling `target`, started, and stopped by `cleanup`. */
  function collectorOn(
    target: NatsServer,
    settings: Partial<CollectorSettings> = {},
  ): DashboardCollector {
    const collector = new DashboardCollector(
      () =>
        BrigadeClient.connect({
          nats: { servers: target.url, maxReconnectAttempts: -1, reconnectTimeWaitMs: 200 },
          logger: { level: 'silent' },
        }),
      target.url,
      {
        pollMs: 100,
        historyMs: 60_000,
        timeoutMs: 1_000,
        stallMs: 30,
        deadLetterStream: 'DEAD_LETTERS',
        deadLetterLimit: 100,
        ...settings,
      },
    );
    collector.start();
    return cleanup.add(collector, (c) => c.stop());
  }

  /** The dashboard on the spec's server: its page's address and its collector. */
  async function dashboard(
    settings: Partial<CollectorSettings>,
  ): Promise<{ url: string; collector: DashboardCollector }> {
    const collector = collectorOn(server, settings);
    const page = new DashboardServer(collector, {
      host: '127.0.0.1',
      port: 0,
      allowActions: false,
    });
    cleanup.add(page, (p) => p.close());
    return { url: await page.listen(), collector };
  }

  before(async () => {
    server = cleanup.add(await NatsServer.start({ jetstream: true }), (s) => s.stop());
    nc = cleanup.add(await connect({ servers: server.url }), (c) => c.close());
    cleanup.add(
      await startApp(server, {
        services: [Greeter],
        streams: [{ name: 'VISITS', subjects: ['visits.>'] }],
      }),
      (a) => a.stop(),
    );
  });
  after(() => cleanup.run());

  it('asks the bus once a poll, however many pages follow it', async () => {
    const { url } = await dashboard({ pollMs: 200 });
    const asked = (): Promise<number> => {
      let count = 0;
      const sub = nc.subscribe('$SRV.STATS', { callback: () => count++ });
      return new Promise((resolve) =>
        setTimeout(() => {
          sub.unsubscribe();
          resolve(count);
        }, 2_000),
      );
    };
    const onePage = follow(url, cleanup);
    const withOne = await asked();
    const pages = Array.from({ length: 25 }, () => follow(url, cleanup));
    const withMany = await asked();
    // 2 s at one poll per 200 ms: at most 11 questions (fewer on a loaded machine), with one
    // page or with 26; and every page got about one snapshot per poll.
    expect(withOne).to.be.within(5, 11);
    expect(withMany).to.be.within(5, 11);
    expect(onePage.frames()).to.be.at.least(10);
    for (const page of pages) expect(page.frames()).to.be.within(5, 12);
  });

  it('keeps its memory flat over a thousand polls with pages open', async () => {
    const { url, collector } = await dashboard({ pollMs: 10, historyMs: 200, stallMs: 5 });
    for (let i = 0; i < 5; i++) follow(url, cleanup);
    let polls = 0;
    collector.onSnapshot(() => polls++);
    const heapAfter = async (count: number): Promise<number> => {
      await waitFor(() => polls >= count, {
        timeout: 60_000,
        interval: 20,
        message: `${count} polls`,
      });
      gc();
      return process.memoryUsage().heapUsed;
    };
    // The history (20 points here) is full after 20 polls, the code warm after a few hundred;
    // from then on nothing grows.
    const warm = await heapAfter(600);
    const later = await heapAfter(1_600);
    expect(later - warm, 'heap growth in bytes').to.be.below(300_000);
    const body = (await (await fetch(`${url}api/snapshot`)).json()) as {
      services: { handlers: { history: { rate: number[] } }[] }[];
    };
    const histories = body.services.flatMap((s) => s.handlers.map((h) => h.history.rate.length));
    expect(histories).to.deep.equal([20, 20]);
  });

  it('shows a service of another Service API implementation (nats.js) with its counters', async () => {
    const weather = await nc.services.add({
      name: 'weather',
      version: '0.1.0',
      description: 'plain nats.js',
    });
    cleanup.add(weather, (w) => w.stop());
    weather.addEndpoint('forecast', {
      subject: 'weather.forecast',
      handler: (_err, msg) => msg.respond('sunny'),
    });
    const { url } = await dashboard({});
    await nc.request('weather.forecast');
    await nc.request('weather.forecast');
    const shown = await waitFor(
      async () => {
        const snapshot = (await (await fetch(`${url}api/snapshot`)).json()) as Snapshot;
        // A poll may fall between the two requests: wait for the one that saw both.
        const weather = snapshot.services.find((s) => s.name === 'weather');
        return weather?.handlers[0]?.requests === 2 ? weather : undefined;
      },
      { timeout: 5_000, message: 'the nats.js service on the dashboard, with its two requests' },
    );
    expect(shown).to.deep.include({ versions: ['0.1.0'], description: 'plain nats.js' });
    expect(shown.instances).to.have.length(1);
    expect(shown.handlers).to.have.length(1);
    expect(shown.handlers[0]).to.deep.include({
      name: 'forecast',
      subject: 'weather.forecast',
      queueGroup: 'q',
      kind: 'endpoint',
      requests: 2,
      errors: 0,
    });
  });

  it('says when the connection is lost, keeps what it knew, and comes back with the server', async () => {
    const own = cleanup.add(await NatsServer.start({ jetstream: true }), (s) => s.stop());
    const collector = collectorOn(own);
    const app = await startApp(own, {
      services: [Greeter],
      streams: [{ name: 'VISITS', subjects: ['visits.>'] }],
    });
    cleanup.add(app, (a) => a.stop());
    await waitFor(() => collector.latest.services.length === 1, { timeout: 5_000 });
    await own.kill();
    await waitFor(() => collector.latest.nats.state === 'reconnecting', {
      timeout: 5_000,
      message: 'the page says the connection is lost',
    });
    expect(collector.latest.services.map((s) => s.name)).to.deep.equal(['greeter']);
    await own.restart();
    await waitFor(() => collector.latest.nats.state === 'connected', {
      timeout: 10_000,
      message: 'connected again',
    });
    expect(collector.latest.nats.reconnects).to.equal(1);
  });

  it('says JetStream is off on a server without it, and shows its services all the same', async () => {
    const plain = cleanup.add(await NatsServer.start(), (s) => s.stop());
    cleanup.add(await startApp(plain, { services: [Hello] }), (a) => a.stop());
    const collector = collectorOn(plain);
    await waitFor(() => collector.latest.services.length === 1, { timeout: 5_000 });
    const { nats, streams, deadLetters, problems } = collector.latest;
    expect(nats.server?.jetstream).to.equal(false);
    expect(streams).to.deep.equal([]);
    expect(deadLetters).to.include({ exists: false, total: 0 });
    expect(problems).to.deep.equal({});
  });

  it('refuses a poll rate it would not keep and a port in use, before serving anything', async () => {
    const fast = await brigade(['dashboard', '--poll-ms', '5']);
    expect(fast.code).to.equal(2);
    expect(fast.stderr).to.include("--poll-ms takes a whole number from 100 to 60000, got '5'");
    const { url } = await dashboard({});
    const taken = await brigade(['dashboard', '--port', new URL(url).port], {
      env: { NATS_URL: server.url },
    });
    expect(taken.code).to.equal(1);
    expect(taken.stderr).to.include(
      `127.0.0.1:${new URL(url).port} is in use: pick another --port (0 takes any free one)`,
    );
    const port = await brigade(['dashboard', '--port', 'http']);
    expect(port.code).to.equal(2);
    expect(port.stderr).to.include('--port takes a whole number from 0 to 65535');
  });

  it('answers another site’s page (a DNS-rebinding Host) with 421, and actions without the page’s token with 403', async () => {
    const { url } = await dashboard({});
    await waitFor(async () => (await fetch(`${url}api/snapshot`)).ok, { timeout: 5_000 });
    const rebound = await new Promise<number>((resolve, reject) =>
      get(`${url}api/snapshot`, { headers: { host: 'evil.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).once('error', reject),
    );
    expect(rebound).to.equal(421);
    const replay = await fetch(`${url}api/dead-letters/1/replay`, { method: 'POST' });
    expect(replay.status).to.equal(403);
    expect(((await replay.json()) as { error: string }).error).to.match(/read-only/);
  });
});
