import { expect } from 'chai';
import { connect } from 'nats';
import {
  Bus,
  Endpoint,
  isOutage,
  NoRespondersError,
  Service,
  Subscribe,
  UnavailableError,
  type BrigadeApp,
  type BreakerOptions,
} from '@brigade/core';
import { exploreServices } from '@brigade/core/internal';
import {
  Cleanup,
  NatsServer,
  natsServerOfSuite,
  startApp,
  waitFor,
  type NatsServerSuite,
} from '@brigade/testing';
import { captureLogs } from './support/log-capture';

/** The stock service the kitchen asks before it cooks: down for a while in these specs. */
@Service({ name: 'stock' })
class Stock {
  @Endpoint('stock.reserve')
  reserve(): string {
    return 'reserved';
  }
}

const handled = new Set<string>();

/** A kitchen whose handler needs the stock service: each run of the spec defines its own. */
function kitchenWith(breaker: BreakerOptions | undefined) {
  @Service({ name: 'kitchen' })
  class Kitchen {
    constructor(private readonly bus: Bus) {}

    @Subscribe('orders.paid', {
      durable: { stream: 'ORDERS', backoff: ['1s'], maxDeliver: 5, ...(breaker && { breaker }) },
      concurrency: 2,
    })
    async cook(order: { id: string }): Promise<void> {
      await this.bus.request('stock.reserve', order, { timeout: 1_000 });
      handled.add(order.id);
    }
  }
  return Kitchen;
}

describe('a durable handler’s breaker: what counts', () => {
  it('counts outages by default, and refuses a breaker it cannot keep', () => {
    expect(isOutage(new UnavailableError('down'))).to.equal(true);
    expect(isOutage(new NoRespondersError('stock.reserve'))).to.equal(true);
    expect(isOutage(new Error('fetch failed'))).to.equal(false);
    const definition = exploreServices([kitchenWith({ failures: 3 })])[0]?.handlers[0]?.durable;
    expect(definition?.breaker).to.include({ failures: 3, withinMs: 30_000, pauseMs: 60_000 });
    for (const breaker of [{ failures: 0 }, { pause: '10ms' }, { within: 'soon' }, { when: 1 }])
      expect(() => exploreServices([kitchenWith(breaker as BreakerOptions)])).to.throw(
        /Kitchen\.cook.*invalid durable\.breaker\./,
      );
  });
});

describe('a durable handler’s breaker through a 20 s outage @integration', function () {
  this.timeout(120_000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  /**
   * 30 orders while the stock service is down for 20 s, then up: how many reach the kitchen's
   * handler in the end, how many go to the dead letters, and what the breaker did.
   */
  async function outage(suite: NatsServerSuite, breaker: BreakerOptions | undefined) {
    handled.clear();
    const server = cleanup.add(
      await NatsServer.start({ jetstream: true, binary: natsServerOfSuite(suite) }),
      (s) => s.stop(),
    );
    const logs = captureLogs();
    const kitchen: BrigadeApp = cleanup.add(
      await startApp(server, {
        services: [kitchenWith(breaker)],
        streams: [{ name: 'ORDERS', subjects: ['orders.>'] }],
        logger: { instance: logs.logger },
      }),
      (a) => a.stop(),
    );
    const ids = Array.from({ length: 30 }, (_, i) => `o-${i}`);
    for (const id of ids) await kitchen.bus.publish('orders.paid', { id }, { durable: true });
    const downAt = Date.now();
    // Meanwhile, as any client sees the consumer: paused on the server, or never.
    const watcher = await connect({ servers: server.url });
    const jsm = await watcher.jetstreamManager();
    let sawPaused = false;
    while (Date.now() - downAt < 20_000) {
      const state = (await jsm.consumers.info('ORDERS', 'kitchen_cook')) as { paused?: boolean };
      sawPaused ||= state.paused === true;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await watcher.close();
    const stock = cleanup.add(await startApp(server, { services: [Stock] }), (a) => a.stop());
    const upAt = Date.now();
    const deadLettered = async () => (await kitchen.deadLetters.list({ limit: 1_000 })).length;
    await waitFor(async () => handled.size + (await deadLettered()) === ids.length, {
      timeout: 60_000,
      interval: 200,
      message: 'every order handled or dead-lettered',
    });
    const nc = await connect({ servers: server.url });
    const info = await (await nc.jetstreamManager()).consumers.info('ORDERS', 'kitchen_cook');
    await nc.close();
    const reply = await kitchen.bus.request<{ endpoints: { data?: Record<string, number> }[] }>(
      '$SRV.STATS.kitchen',
      undefined,
    );
    const stats = reply.endpoints[0]?.data ?? {};
    await stock.stop();
    return {
      sawPaused,
      handled: handled.size,
      deadLettered: await deadLettered(),
      drainedMs: Date.now() - upAt,
      outageMs: upAt - downAt,
      redelivered: info.num_redelivered,
      stats,
      warnings: logs.lines.filter((l) => l['level'] === 40).map((l) => String(l['msg'])),
      infos: logs.lines.map((l) => String(l['msg'])),
    };
  }

  it('pauses the consumer on the server: nothing dead-lettered, the backlog drained after', async () => {
    const without = await outage('sid', undefined);
    const withBreaker = await outage('sid', { failures: 3, within: '10s', pause: '8s' });
    console.log(
      `      20 s outage, 30 orders, maxDeliver 5, backoff 1s: without a breaker ${without.deadLettered} dead-lettered, ${without.handled} handled; ` +
        `with one (3 failures in 10 s, pause 8 s) ${withBreaker.deadLettered} dead-lettered, ${withBreaker.handled} handled, ` +
        `backlog drained ${withBreaker.drainedMs} ms after the stock service returned, opened ${JSON.stringify(withBreaker.stats)}`,
    );
    expect(without.deadLettered).to.be.above(0);
    expect(withBreaker).to.include({ deadLettered: 0, handled: 30, sawPaused: true });
    const { breaker_opened: opened = 0, breaker_closed: closed = 0 } = withBreaker.stats;
    expect(opened).to.be.within(2, 4);
    expect(closed).to.be.within(opened - 1, opened);
    const paused = withBreaker.warnings.filter((w) => w.includes('breaker open'));
    expect(paused).to.have.length(opened);
    expect(paused[0]).to.match(
      /^kitchen#cook on 'orders\.paid': breaker open after 3 transient failures within 10000 ms: consumer 'kitchen_cook' paused on the server until \S+; messages wait in the stream$/,
    );
    // A paused consumer still answers open pulls with heartbeats: no pull is taken for lost.
    expect(withBreaker.warnings.filter((w) => w.includes('no heartbeat'))).to.deep.equal([]);
    expect(withBreaker.infos.filter((m) => m.includes('breaker closed'))).to.have.length(
      closed as number,
    );
  });

  it('on a server without consumer pause, stops pulling in this instance and says so once', async () => {
    const result = await outage('trixie', { failures: 3, within: '10s', pause: '8s' });
    console.log(
      `      on 2.10: ${result.deadLettered} dead-lettered, ${result.handled} handled, opened ${JSON.stringify(result.stats)}`,
    );
    expect(result.handled + result.deadLettered).to.equal(30);
    expect(result.sawPaused).to.equal(false);
    const local = result.warnings.filter((w) => w.includes('breaker open'));
    expect(local).to.have.length(1);
    expect(local[0]).to.match(
      /breaker open after 3 transient failures within 10000 ms; pausing the consumer on the server needs nats-server 2\.11 or later .*: this instance stops pulling for 8000 ms, other instances go on \(said once\)$/,
    );
    expect(result.stats['breaker_opened']).to.be.at.least(2);
  });
});
