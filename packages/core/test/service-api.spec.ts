import { expect } from 'chai';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createInbox, JSONCodec, type NatsConnection } from 'nats';
import { Endpoint, NotFoundError, Service, Subscribe, type BrigadeApp } from '@brigade/core';
import { Cleanup, NatsServer, startApp, waitFor } from '@brigade/testing';

const json = JSONCodec();
const schemaDir = join(__dirname, 'fixtures', 'adr-32');
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
for (const name of ['common', 'ping', 'info', 'stats']) {
  ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, `${name}.schema.json`), 'utf8')) as object);
}

type Verb = 'PING' | 'INFO' | 'STATS';
type Response = Record<string, unknown> & {
  name: string;
  id: string;
  endpoints?: Record<string, unknown>[];
};

function assertConforms(verb: Verb, response: unknown): void {
  const validate = ajv.getSchema(
    `https://brigade.invalid/adr-32/${verb.toLowerCase()}.schema.json`,
  );
  const valid = validate?.(response);
  expect(
    valid,
    `${verb}: ${ajv.errorsText(validate?.errors)}\n${JSON.stringify(response)}`,
  ).to.equal(true);
}

/** Sends one request and gathers every reply within `ms`, as `nats micro` does. */
async function gather(nc: NatsConnection, subject: string, ms = 300): Promise<Response[]> {
  const inbox = createInbox();
  const replies: Response[] = [];
  const sub = nc.subscribe(inbox, {
    callback: (_e, m) => replies.push(json.decode(m.data) as Response),
  });
  nc.publish(subject, undefined, { reply: inbox });
  await nc.flush();
  await waitFor(() => replies.length > 0, { timeout: 2_000 }).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, ms)); // late replies of other instances
  sub.unsubscribe();
  return replies;
}

describe('NATS Service API (ADR-32) @integration', () => {
  const cleanup = new Cleanup();
  let server: NatsServer;
  let client: NatsConnection;
  let first: BrigadeApp;
  let second: BrigadeApp;

  @Service({
    name: 'kitchen',
    version: '1.2.3-beta.1',
    description: 'cooks orders',
    metadata: { team: 'food' },
  })
  class Kitchen {
    @Endpoint('kitchen.status', { metadata: { doc: 'how busy' } })
    async status(query: { fail?: boolean }): Promise<string> {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (query?.fail) throw new NotFoundError('no such stove');
      return 'ok';
    }

    @Subscribe('orders.placed')
    cook(): void {}

    @Subscribe('orders.cancelled', { queue: false })
    cancel(): void {}

    @Subscribe('orders.paid', { durable: { stream: 'ORDERS' } })
    paid(): void {}
  }

  @Service({ name: 'reception' })
  class Reception {}

  before(async () => {
    server = cleanup.add(await NatsServer.start({ jetstream: true }), (s) => s.stop());
    client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
    const streams = [{ name: 'ORDERS', subjects: ['orders.paid'] }];
    first = cleanup.add(await startApp(server, { services: [Kitchen, Reception], streams }), (a) =>
      a.stop(),
    );
    second = cleanup.add(await startApp(server, { services: [Kitchen], streams }), (a) => a.stop());
    for (let i = 0; i < 3; i++) await first.bus.request('kitchen.status', {});
    await first.bus.request('kitchen.status', { fail: true }).catch(() => undefined);
  });
  after(() => cleanup.run());

  for (const verb of ['PING', 'INFO', 'STATS'] as Verb[]) {
    it(`answers $SRV.${verb} for every instance, by name and by id, conforming to the schema`, async () => {
      const all = await gather(client, `$SRV.${verb}`);
      expect(all.map((r) => r.name).sort()).to.deep.equal(['kitchen', 'kitchen', 'reception']);
      const kitchens = await gather(client, `$SRV.${verb}.kitchen`);
      expect(kitchens).to.have.length(2);
      const ids = kitchens.map((r) => r.id);
      expect(new Set(ids).size, 'unique instance ids').to.equal(2);
      expect(ids)
        .to.include(first.instanceIds.get('kitchen'))
        .and.include(second.instanceIds.get('kitchen'));
      const one = await gather(client, `$SRV.${verb}.kitchen.${ids[0] as string}`);
      expect(one.map((r) => r.id)).to.deep.equal([ids[0]]);
      for (const response of [...all, ...kitchens, ...one]) assertConforms(verb, response);
    });
  }

  it('describes endpoints and event handlers with their queue groups and metadata', async () => {
    const [info] = await gather(
      client,
      `$SRV.INFO.kitchen.${first.instanceIds.get('kitchen') as string}`,
    );
    expect(info).to.deep.include({
      name: 'kitchen',
      version: '1.2.3-beta.1',
      description: 'cooks orders',
      metadata: { team: 'food' },
    });
    expect(info?.endpoints).to.deep.equal([
      {
        name: 'status',
        subject: 'kitchen.status',
        queue_group: 'q',
        metadata: { doc: 'how busy' },
      },
      {
        name: 'cook',
        subject: 'orders.placed',
        queue_group: 'kitchen',
        metadata: { 'brigade.kind': 'event' },
      },
      {
        name: 'cancel',
        subject: 'orders.cancelled',
        queue_group: '',
        metadata: { 'brigade.kind': 'event' },
      },
      {
        name: 'paid',
        subject: 'orders.paid',
        queue_group: '',
        metadata: {
          'brigade.kind': 'event',
          'brigade.stream': 'ORDERS',
          'brigade.consumer': 'kitchen_paid',
        },
      },
    ]);
  });

  it('counts requests and error replies and times the awaited handler in integer nanoseconds', async () => {
    const both = await gather(client, '$SRV.STATS.kitchen');
    const statuses = both.map((s) => s.endpoints?.find((e) => e['name'] === 'status') ?? {});
    const sum = (field: string): number => statuses.reduce((n, e) => n + (e[field] as number), 0);
    // The two instances share queue group q: the four requests are spread over them.
    expect(sum('num_requests')).to.equal(4);
    expect(sum('num_errors')).to.equal(1);
    expect(statuses.map((e) => e['last_error']).sort()).to.deep.equal(['', '404 no such stove']);
    expect(sum('processing_time')).to.be.at.least(4 * 19_000_000); // four awaited 20 ms handlers
    for (const e of statuses) {
      expect(Number.isInteger(e['processing_time'])).to.equal(true);
      const requests = e['num_requests'] as number;
      const expected = requests === 0 ? 0 : Math.trunc((e['processing_time'] as number) / requests);
      expect(e['average_processing_time']).to.equal(expected);
    }
    const idle = both[0]?.endpoints?.find((e) => e['name'] === 'cook');
    expect(idle).to.include({
      num_requests: 0,
      num_errors: 0,
      last_error: '',
      processing_time: 0,
      average_processing_time: 0,
    });
    expect(Date.parse(both[0]?.['started'] as string)).to.be.at.most(Date.now());
  });

  it('has schemas that reject what ADR-32 tools cannot read', () => {
    const good = {
      type: 'io.nats.micro.v1.stats_response',
      name: 'k',
      id: 'x',
      version: '1.0.0',
      metadata: {},
      started: '2026-01-01T00:00:00.000Z',
      endpoints: [
        {
          name: 'e',
          subject: 's',
          queue_group: 'q',
          num_requests: 1,
          num_errors: 0,
          last_error: '',
          processing_time: 10,
          average_processing_time: 10,
        },
      ],
    };
    const validate = ajv.getSchema('https://brigade.invalid/adr-32/stats.schema.json');
    expect(validate?.(good)).to.equal(true);
    const endpoint = good.endpoints[0] as Record<string, unknown>;
    const broken: unknown[] = [
      { ...good, endpoints: [{ ...endpoint, processing_time: 10.5 }] },
      { ...good, endpoints: [{ ...endpoint, last_error: undefined }] },
      { ...good, type: 'io.nats.micro.v1.ping_response' },
      { ...good, version: 'v1' },
      { ...good, started: 'yesterday' },
      { ...good, metadata: { n: 1 } },
    ];
    for (const response of broken)
      expect(validate?.(JSON.parse(JSON.stringify(response))), JSON.stringify(response)).to.equal(
        false,
      );
  });

  it('is discovered by the nats client’s own Service API client', async () => {
    const svc = client.services.client();
    const found: string[] = [];
    for await (const identity of await svc.ping('kitchen')) found.push(identity.id);
    expect(found.sort()).to.deep.equal(
      [first.instanceIds.get('kitchen'), second.instanceIds.get('kitchen')].sort(),
    );
    const infos = [];
    for await (const info of await svc.info('kitchen')) infos.push(info);
    expect(infos[0]?.endpoints.map((e) => e.name)).to.deep.equal([
      'status',
      'cook',
      'cancel',
      'paid',
    ]);
  });
});
