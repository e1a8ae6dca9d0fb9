import { expect } from 'chai';
import { connect } from 'nats';
import {
  InvalidOptionError,
  JetStreamError,
  NoStreamError,
  ServerTooOldError,
  Service,
  Subscribe,
  type BrigadeApp,
  type MessageContext,
  type ScheduleTiming,
  type StreamDeclaration,
} from '@brigade/core';
import { Features, JetStreamSchedules, ServerCapabilities } from '@brigade/core/internal';
import { Cleanup, startApp, waitFor, type NatsServerSuite } from '@brigade/testing';
import { captureLogs } from './support/log-capture';
import { rejectionOf, startRefusal, suiteServer } from './support/suite-server';

const ORDERS: StreamDeclaration = { name: 'ORDERS', subjects: ['orders.>'], schedules: true };

describe('schedules: what they need and what they refuse', () => {
  it('needs 2.12 for one-off schedules and 2.14 for recurring ones, by version and API level', () => {
    const at = (version: string, level: number) =>
      new ServerCapabilities(version, level, 'nats://127.0.0.1:4222');
    for (const [version, level, once, recurring] of [
      ['2.10.27', 0, false, false],
      ['2.11.4', 1, false, false],
      ['2.12.0', 1, false, false], // a 2.12 reporting 2.11's level is not taken at its word
      ['2.12.0', 2, true, false],
      ['2.13.1', 3, true, false],
      ['2.14.0', 4, true, true],
      ['2.15.1', 5, true, true],
    ] as const) {
      const server = at(version, level);
      expect(server.supports(Features.messageSchedules), `${version} once`).to.equal(once);
      expect(server.supports(Features.recurringSchedules), `${version} every`).to.equal(recurring);
    }
    expect(() =>
      at('2.13.1', 3).require(Features.recurringSchedules, "a recurring schedule ('@every 5s')"),
    ).to.throw(
      "a recurring schedule ('@every 5s') needs nats-server 2.14 or later (JetStream API level 4); connected to 2.13.1, API level 3, at nats://127.0.0.1:4222",
    );
  });

  it('refuses a timing, name or subject the server would not take, before connecting', async () => {
    const schedules = new JetStreamSchedules(() => Promise.reject(new Error('never asked')));
    const refusals: [string, unknown, string?][] = [
      ['orders.x', {}, undefined],
      ['orders.x', { at: new Date(), every: '1s' }],
      ['orders.x', { at: '2026-12-24T18:00:00' }],
      ['orders.x', { at: 'tomorrow' }],
      ['orders.x', { after: 'soon' }],
      ['orders.x', { every: '1500ms' }],
      ['orders.x', { every: '0s' }],
      ['orders.x', { cron: '0 9 * * *' }],
      ['orders.x', { cron: '0 0 9 * * *', timeZone: 'Mars/Olympus' }],
      ['orders.x', { every: '5s', timeZone: 'Asia/Seoul' }],
      ['orders.*', { after: '1s' }],
      ['orders.x', { after: '1s' }, 'two words'],
    ];
    for (const [subject, timing, name] of refusals)
      await schedules
        .schedule(subject, {}, timing as ScheduleTiming, name === undefined ? {} : { name })
        .then(
          () => expect.fail(`${JSON.stringify(timing)} was taken`),
          (err: unknown) =>
            expect(err, JSON.stringify(timing)).to.be.instanceOf(InvalidOptionError),
        );
  });
});

@Service({ name: 'kitchen' })
class Kitchen {
  static readonly arrived: { subject: string; payload: unknown; at: number; by?: string }[] = [];

  @Subscribe('orders.late-check.*', { durable: { stream: 'ORDERS' } })
  check(payload: unknown, ctx: MessageContext): void {
    Kitchen.arrived.push({
      subject: ctx.subject,
      payload,
      at: Date.now(),
      by: ctx.headers.get('Nats-Scheduler'),
    });
  }
}

/** The instant of `@at 2026-12-08T10:00:00Z`. */
function instantOf(schedule: string): number {
  return Date.parse(schedule.replace('@at ', ''));
}

describe('schedules on the newest server @integration', function () {
  this.timeout(60_000);
  const cleanup = new Cleanup();
  const newest = suiteServer('sid');
  beforeEach(() => {
    Kitchen.arrived.length = 0;
  });
  afterEach(async () => {
    await cleanup.run();
    const jsm = await newest.client.jetstreamManager();
    for (const name of await jsm.streams.names().next()) await jsm.streams.delete(name);
  });

  const start = (): Promise<BrigadeApp> =>
    startApp(newest.server, { services: [Kitchen], streams: [ORDERS] }).then((app) =>
      cleanup.add(app, (a) => a.stop()),
    );

  it('publishes a one-off message within a second of its time, across a restart of every service', async () => {
    const first = await start();
    const jsm = await newest.client.jetstreamManager();
    const config = (await jsm.streams.info('ORDERS')).config as {
      allow_msg_schedules?: boolean;
      subjects: string[];
    };
    expect(config).to.include({ allow_msg_schedules: true });
    expect(config.subjects).to.deep.equal(['orders.>', '$SCHED.ORDERS.>']);
    const scheduled = await first.schedules.schedule(
      'orders.late-check.o-1',
      { orderId: 'o-1' },
      { after: '4s' },
      { name: 'late-o-1', headers: { 'order-id': 'o-1' } },
    );
    expect(scheduled).to.include({
      stream: 'ORDERS',
      name: 'late-o-1',
      subject: 'orders.late-check.o-1',
    });
    // No app runs for a while: the schedule is the server's.
    await first.stop();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(Kitchen.arrived).to.deep.equal([]);
    const second = await start();
    await waitFor(() => Kitchen.arrived.length === 1, { timeout: 10_000 });
    const [arrival] = Kitchen.arrived;
    const due = instantOf(scheduled.schedule);
    console.log(`      one-off schedule: handled ${arrival!.at - due} ms after its time`);
    expect(arrival!.at - due).to.be.within(0, 1_000);
    expect(arrival).to.deep.include({
      subject: 'orders.late-check.o-1',
      payload: { orderId: 'o-1' },
      by: '$SCHED.ORDERS.late-o-1',
    });
    // Fired: a one-off schedule is gone.
    expect(await second.schedules.list('ORDERS')).to.deep.equal([]);
  });

  it('lists what is scheduled and cancels it, and nothing is published', async () => {
    const app = await start();
    const inAnHour = new Date(Date.now() + 3_600_000);
    await app.schedules.schedule('orders.late-check.o-2', {}, { at: inAnHour }, { name: 'b-once' });
    await app.schedules.schedule(
      'orders.late-check.o-3',
      {},
      { every: '1h' },
      { name: 'a-hourly' },
    );
    const listed = await app.schedules.list();
    expect(
      listed.map(({ name, subject, schedule }) => ({ name, subject, schedule })),
    ).to.deep.equal([
      { name: 'a-hourly', subject: 'orders.late-check.o-3', schedule: '@every 3600s' },
      {
        name: 'b-once',
        subject: 'orders.late-check.o-2',
        schedule: `@at ${new Date(Math.ceil(inAnHour.getTime() / 1_000) * 1_000).toISOString().replace('.000Z', 'Z')}`,
      },
    ]);
    expect(await app.schedules.cancel('ORDERS', 'b-once')).to.equal(true);
    expect(await app.schedules.cancel('ORDERS', 'b-once')).to.equal(false);
    expect((await app.schedules.list('ORDERS')).map((s) => s.name)).to.deep.equal(['a-hourly']);
    expect(await app.schedules.cancel('ORDERS', 'a-hourly')).to.equal(true);
    expect(await app.schedules.list('ORDERS')).to.deep.equal([]);
    const jsm = await newest.client.jetstreamManager();
    const { state } = await jsm.streams.info('ORDERS', { subjects_filter: 'orders.>' });
    expect(state.subjects ?? {}).to.deep.equal({});
  });

  it('runs a cron schedule in its time zone, not in UTC', async () => {
    const app = await start();
    // A time of day in Seoul (UTC+9, no daylight saving) 3 s from now: read in UTC, it is 9 h off.
    const due = Math.ceil((Date.now() + 3_000) / 1_000) * 1_000;
    const seoul = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Seoul',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    }).formatToParts(new Date(due));
    const part = (type: string) => Number(seoul.find((p) => p.type === type)?.value);
    const cron = `${part('second')} ${part('minute')} ${part('hour')} * * *`;
    const scheduled = await app.schedules.schedule(
      'orders.late-check.daily',
      { report: 'daily' },
      { cron, timeZone: 'Asia/Seoul' },
      { name: 'daily-report' },
    );
    expect(scheduled).to.include({ schedule: cron, timeZone: 'Asia/Seoul' });
    expect((await app.schedules.list('ORDERS'))[0]).to.include({ timeZone: 'Asia/Seoul' });
    await waitFor(() => Kitchen.arrived.length === 1, { timeout: 8_000 });
    console.log(
      `      cron in Asia/Seoul: handled ${Kitchen.arrived[0]!.at - due} ms after its time`,
    );
    expect(Kitchen.arrived[0]!.at - due).to.be.within(0, 1_000);
    // A daily schedule stays until cancelled.
    expect(await app.schedules.cancel('ORDERS', 'daily-report')).to.equal(true);
  });

  it('says which stream takes no schedules, and which subject no stream stores', async () => {
    const jsm = await newest.client.jetstreamManager();
    await jsm.streams.add({ name: 'PLAIN', subjects: ['plain.>'] });
    const app = await start();
    const plain = await rejectionOf(app.schedules.schedule('plain.x', {}, { after: '1s' }));
    expect(plain).to.be.instanceOf(JetStreamError);
    expect((plain as Error).message).to.equal(
      "stream 'PLAIN', which stores 'plain.x', takes no schedules: declare it with schedules: true (it allows schedules and stores $SCHED.PLAIN.>)",
    );
    const nowhere = await rejectionOf(app.schedules.schedule('nowhere.x', {}, { after: '1s' }));
    expect(nowhere).to.be.instanceOf(NoStreamError);
    expect(await app.schedules.accepts('orders.late-check.o-1')).to.equal(true);
    expect(await app.schedules.accepts('orders.late-check.o-1', { recurring: true })).to.equal(
      true,
    );
    expect(await app.schedules.accepts('plain.x')).to.equal(false);
    expect(await app.schedules.accepts('nowhere.x')).to.equal(false);
    await jsm.streams.delete('PLAIN');
  });
});

for (const suite of ['trixie', 'bookworm'] as const satisfies readonly NatsServerSuite[]) {
  describe(`schedules on Debian ${suite}'s server @integration`, function () {
    this.timeout(60_000);
    const older = suiteServer(suite);

    it('fails the start of an app whose stream must take them, naming the versions', async () => {
      const failed = await startRefusal(older, {
        services: [Kitchen],
        streams: [ORDERS],
      });
      expect(failed).to.be.instanceOf(ServerTooOldError);
      expect((failed as Error).message).to.equal(
        `schedules on stream 'ORDERS' needs nats-server 2.12 or later (JetStream API level 2); connected to ${older.version} at ${older.address}`,
      );
    });

    it("starts with schedules 'if-supported' off, says so once, and refuses a schedule before sending", async () => {
      const logs = captureLogs();
      const app = await startApp(older.server, {
        services: [Kitchen],
        streams: [{ ...ORDERS, schedules: 'if-supported' }],
        logger: { instance: logs.logger },
      });
      try {
        const said = logs.lines.filter((l) => String(l['msg']).includes('schedules'));
        expect(said.map((l) => l['msg'])).to.deep.equal([
          `schedules on stream 'ORDERS' needs nats-server 2.12 or later (JetStream API level 2); connected to ${older.version} at ${older.address}: the stream takes none, and what needs them is off`,
        ]);
        const failed = await rejectionOf(
          app.schedules.schedule('orders.late-check.o-1', {}, { after: '1s' }),
        );
        expect(failed).to.be.instanceOf(ServerTooOldError);
        expect(await app.schedules.accepts('orders.late-check.o-1')).to.equal(false);
        const nc = await connect({ servers: older.server.url });
        const info = await (await nc.jetstreamManager()).streams.info('ORDERS');
        expect(info.config.subjects).to.deep.equal(['orders.>']);
        expect(info.state.messages).to.equal(0);
        await nc.close();
      } finally {
        await app.stop();
      }
    });
  });
}
