import { expect } from 'chai';
import { JSONCodec, type NatsConnection } from 'nats';
import { connect as tcpConnect } from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { parse } from 'yaml';
import { atLeast } from '@brigade/core/internal';
import { Cleanup, NatsServer, RawNatsConnection, waitFor } from '@brigade/testing';
import { fuzzFrame, fuzzHttpRequest, LEAKS, Seeded } from './support/fuzz-inputs';
import { Restaurant, type HttpAnswer, type Order } from './support/restaurant';
import type { RunningProcess } from '../scripts/supervisor';

const json = JSONCodec();
describe('the restaurant, as separate processes @integration', function () {
  this.timeout(120_000);
  const cleanup = new Cleanup();
  let restaurant: Restaurant;
  let running: Map<string, RunningProcess>;
  let nc: NatsConnection;
  let natsUrl: string;
  let port: number;
  const start = (name: string, label?: string): RunningProcess => restaurant.start(name, label);
  const instances = (name: string): Promise<number> => restaurant.instances(name);
  const post = (body: string, contentType?: string): Promise<HttpAnswer> =>
    restaurant.post(body, contentType);
  const order = (id: string): Promise<Order> => restaurant.order(id);

  before(async () => {
    const server = cleanup.add(await NatsServer.start({ jetstream: true }), (s) => s.stop());
    // Late checks after 3 s: a big order is late before it is served, a small one never is.
    restaurant = await Restaurant.open(cleanup, server.url, { ORDER_LATE_AFTER: '3s' });
    ({ running, nc, natsUrl, port } = restaurant);
  });
  after(() => cleanup.run());

  it('answers malformed or invalid requests with 400 and a clear message, and keeps working', async () => {
    const malformed = await post('{"customer": "Minji", "items": [');
    expect(malformed.status).to.equal(400);
    expect(malformed.body['error']).to.match(/^the body is not valid JSON/);

    const wrongType = await post('customer=Minji', 'application/x-www-form-urlencoded');
    expect(wrongType).to.deep.equal({
      status: 400,
      body: { error: 'send JSON with Content-Type: application/json' },
    });

    const invalid = await post(
      JSON.stringify({ customer: '', items: [{ dish: 'pizza', quantity: 0 }] }),
    );
    expect(invalid.status).to.equal(400);
    expect(invalid.body['error']).to.equal('the order is invalid');
    expect((invalid.body['details'] as { problems: string[] }).problems).to.deep.equal([
      '"customer" must be a name of 1 to 100 characters',
      'items[0].dish must be one of: bibimbap, bulgogi, kimchi, japchae, tteokbokki',
      'items[0].quantity must be a whole number from 1 to 50',
    ]);

    // Any client, in any language, gets the contract's answer: here a plain nats client, as a Go
    // service would send it, with an order that lacks its items.
    const foreign = await nc.request('order.create', json.encode({ customer: 'Go' }), {
      timeout: 5_000,
    });
    expect(foreign.headers?.get('Nats-Service-Error-Code')).to.equal('422');
    const answer = json.decode(foreign.data) as { details: { issues: { path: string }[] } };
    expect(foreign.headers?.get('Nats-Service-Error')).to.include('items');
    expect(answer.details.issues.map((i) => i.path)).to.deep.equal(['items']);

    const inherited = await post(
      JSON.stringify({ customer: 'Minji', items: [{ dish: 'constructor', quantity: 1 }] }),
    );
    expect(inherited.status).to.equal(400);
    const target = await rawHttp(port, Buffer.from('GET http://[ HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(target).to.match(/^HTTP\/1\.1 400 /);

    expect((await fetch(`${restaurant.base}/orders/nope`)).status).to.equal(404);
    expect((await fetch(`${restaurant.base}/tables`)).status).to.equal(404);
    // What a browser asks beside the live page: no icon, and no error either.
    const icon = await fetch(`${restaurant.base}/favicon.ico`);
    expect([icon.status, await icon.text()]).to.deep.equal([204, '']);
    expect((await fetch(`${restaurant.base}/orders`, { method: 'GET' })).status).to.equal(405);

    const fine = await post(
      JSON.stringify({ customer: 'Minji', items: [{ dish: 'kimchi', quantity: 1 }] }),
    );
    expect(fine.status).to.equal(202);
    await waitFor(async () => (await order(fine.body['id'] as string)).status === 'served', {
      timeout: 20_000,
    });
    for (const proc of running.values())
      expect(proc.running, `${proc.label} still runs`).to.equal(true);
  });

  it('serves all 50 orders across both kitchens, through a kitchen SIGKILL and an order-service restart', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const placed = await post(
        JSON.stringify({
          customer: `guest-${i}`,
          items: [
            { dish: 'bibimbap', quantity: 1 + (i % 3) },
            { dish: 'kimchi', quantity: 1 },
          ],
        }),
      );
      expect(placed.status, JSON.stringify(placed.body)).to.equal(202);
      ids.push(placed.body['id'] as string);
    }
    const cookedBy = new Map<string, string>();
    const cooked = nc.subscribe('orders.cooked', {
      callback: (_e, m) => {
        const event = json.decode(m.data) as { id: string; kitchen: string };
        cookedBy.set(event.id, event.kitchen);
      },
    });
    cleanup.add(cooked, (sub) => sub.unsubscribe());

    // A kitchen dies mid-run: what it was cooking goes to the other one after ackWait.
    await waitFor(() => [...cookedBy.values()].filter((k) => k === 'kitchen-1').length >= 4, {
      timeout: 30_000,
    });
    await running.get('kitchen-1')?.kill();

    // The order service restarts mid-run: its state is in the key-value bucket, and the events it
    // missed while down wait in its durable consumer.
    const before = await order(ids[0] as string);
    expect(['paid', 'cooking', 'cooked', 'served']).to.include(before.status);
    await running.get('order')?.stop();
    start('order');
    await waitFor(async () => (await instances('order')) === 1, { timeout: 30_000 });
    const after = await order(ids[0] as string);
    expect(after.history.length).to.be.at.least(before.history.length);

    const orders = await waitFor(
      async () => {
        const all = await Promise.all(ids.map(order));
        // Eventually consistent: an event retried after a failure (a kitchen killed, the order
        // service restarting) may land after a later one, so "done" is every status recorded.
        const done = (o: Order) =>
          o.status === 'served' && o.history.length >= 5 && o.cookedBy !== undefined;
        return all.every(done) ? all : undefined;
      },
      { timeout: 60_000, interval: 250, message: 'all 50 orders served, every status recorded' },
    );
    const kitchens = new Set(orders.map((o) => o.cookedBy));
    expect([...kitchens].sort()).to.deep.equal(['kitchen-1', 'kitchen-2']);
    for (const o of orders) {
      expect(o.history.map((h) => h.status)).to.include.members([
        'placed',
        'paid',
        'cooking',
        'cooked',
        'served',
      ]);
    }
    const audit = json.decode(
      (await nc.request('audit.summary', undefined, { timeout: 2_000 })).data,
    ) as Record<string, number>;
    expect(audit['served']).to.be.at.least(51);
    cooked.unsubscribe();
  });

  it('marks an order not served in time late where the server keeps schedules, and says once where it does not', async () => {
    const version = nc.info?.version ?? '';
    const schedules = atLeast(version, '2.12');
    // 40 dishes at 120 ms take about 5 s in one kitchen: past ORDER_LATE_AFTER (3 s).
    const slow = await post(
      JSON.stringify({ customer: 'Patient', items: [{ dish: 'bulgogi', quantity: 40 }] }),
    );
    const quick = await post(
      JSON.stringify({ customer: 'Hasty', items: [{ dish: 'kimchi', quantity: 1 }] }),
    );
    const [slowId, quickId] = [slow.body['id'] as string, quick.body['id'] as string];
    const served = (id: string) =>
      waitFor(async () => ((await order(id)).status === 'served' ? order(id) : undefined), {
        timeout: 30_000,
        message: `order ${id} served`,
      });
    const slowOrder = await served(slowId);
    const quickOrder = await served(quickId);
    // Past the quick order's late check as well.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect((await order(quickId)).late, 'the quick order is not late').to.equal(undefined);
    const orderWarnings = running.get('order')?.warnings ?? [];
    if (!schedules) {
      // Degraded: no late checks, said once at start, and the orders flow as before.
      expect((await order(slowId)).late, 'no late check on ' + version).to.equal(undefined);
      expect(orderWarnings.filter((w) => w.includes('schedules'))).to.deep.equal([
        `schedules on stream 'ORDERS' needs nats-server 2.12 or later (JetStream API level 2); connected to ${version} at ${natsUrl.replace('nats://', '')}: the stream takes none, and what needs them is off`,
      ]);
      return;
    }
    const late = (await order(slowId)).late as string;
    const placedAt = Date.parse(slowOrder.history[0]?.at ?? '');
    const servedAt = Date.parse(slowOrder.history.find((h) => h.status === 'served')?.at ?? '');
    console.log(
      `      late check: ${Date.parse(late) - placedAt} ms after the order was placed (ORDER_LATE_AFTER 3 s), served ${servedAt - placedAt} ms after`,
    );
    expect(Date.parse(late) - placedAt).to.be.within(3_000, 5_000);
    expect(Date.parse(late)).to.be.below(servedAt);
    expect(orderWarnings.filter((w) => w.includes('schedules'))).to.deep.equal([]);
    expect(quickOrder.late).to.equal(undefined);
    // Reception's page hears it: its feed has the order marked late.
    expect(await feedEntry(port, slowId)).to.include({ late });
    // A served order's late check is cancelled, a fired one is gone: nothing left scheduled.
    const jsm = await nc.jetstreamManager();
    const held = await jsm.streams.info('ORDERS', { subjects_filter: '$SCHED.ORDERS.>' });
    expect(Object.keys(held.state.subjects ?? {})).to.not.include.members([
      `$SCHED.ORDERS.late-${slowId}`,
      `$SCHED.ORDERS.late-${quickId}`,
    ]);
  });

  it('is described by `brigade asyncapi` as an AsyncAPI 3.0 document the official parser takes without a word', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'brigade-asyncapi-')), 'restaurant.yaml');
    const cli = spawnSync(
      process.execPath,
      [
        join(__dirname, '../packages/cli/bin/brigade.cjs'),
        'asyncapi',
        '-s',
        natsUrl,
        '--out',
        out,
        '--title',
        'The restaurant',
      ],
      { encoding: 'utf8' },
    );
    expect(cli.status, cli.stderr).to.equal(0);
    const text = readFileSync(out, 'utf8');
    const { document, diagnostics } = await new Parser().parse(text);
    const complaints = diagnostics
      .filter((d) => d.severity <= DiagnosticSeverity.Warning)
      .map((d) => `${d.code} ${d.path.join('.')}: ${d.message}`);
    expect(complaints).to.deep.equal([]);
    expect(document).to.not.equal(undefined);
    const doc = parse(text) as {
      channels: Record<
        string,
        {
          address: string | null;
          messages: Record<string, { payload?: { schema: { required?: string[] } } }>;
        }
      >;
      operations: Record<
        string,
        { action: string; bindings?: { nats: { queue: string } }; reply?: unknown }
      >;
    };
    // The order contract's request schema, from the Service API metadata, with its required fields.
    expect(
      doc.channels['order.create']?.messages['request']?.payload?.schema.required,
    ).to.have.members(['customer', 'items']);
    expect(doc.channels['order.create.reply']?.address).to.equal(null);
    expect(doc.operations['order.create.reply'])
      .to.include({ action: 'receive' })
      .and.have.property('reply');
    expect(doc.operations['order.create.request']).to.include({ action: 'send' });
    // Durable handlers share a consumer (no queue group); core handlers have theirs.
    expect(doc.operations['audit.record.receive']?.bindings?.nats.queue).to.equal('audit');
    expect(doc.operations['kitchen.cook.receive']).to.include({ action: 'receive' });
    expect(doc.channels['orders.paid']?.messages['event']?.payload?.schema.required).to.include(
      'items',
    );
  });

  it('takes thousands of malformed messages and hundreds of malformed HTTP requests without a crash, a deaf process or a leak', async () => {
    const seed = Number(process.env['FUZZ_SEED'] ?? 20_261_201);
    const rng = new Seeded(seed);
    const raw = cleanup.add(await RawNatsConnection.open(natsUrl), (c) => c.close());
    const endpoints = ['order.create', 'order.get', 'kitchen.status', 'audit.summary'];
    const durable = ['orders.paid', 'orders.cooked', 'orders.placed'];
    const answers = new Map<string, number>();
    const count = (what: string): void => void answers.set(what, (answers.get(what) ?? 0) + 1);

    async function round(messages: number, httpRequests: number): Promise<void> {
      for (let i = 0; i < messages; i++) {
        const frame = fuzzFrame(rng);
        if (i % 5 === 4) {
          raw.publish(rng.pick(durable), frame); // stored in ORDERS: a durable handler's poison
          continue;
        }
        const subject = rng.pick(endpoints);
        const reply = await raw.request(subject, frame, 5_000).catch((err: Error) => {
          throw new Error(`seed ${seed}, message ${i} to ${subject}: no answer (${err.message})`);
        });
        const head = reply.headers?.toString('utf8') ?? '';
        const code = /Nats-Service-Error-Code: (\d+)/.exec(head)?.[1] ?? 'ok';
        count(code);
        expect(code, `seed ${seed}, message ${i} to ${subject}: ${head}`).to.match(/^(ok|4\d\d)$/);
        expect(
          `${head}${reply.payload.toString('utf8')}`,
          `seed ${seed}, message ${i}`,
        ).to.not.match(LEAKS);
      }
      await raw.flush();
      for (let i = 0; i < httpRequests; i++) {
        const response = await rawHttp(port, fuzzHttpRequest(rng));
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
        count(`http ${status || 'closed'}`);
        expect(status, `seed ${seed}, HTTP request ${i}: ${response.slice(0, 200)}`).to.be.below(
          500,
        );
        expect(response, `seed ${seed}, HTTP request ${i}`).to.not.match(LEAKS);
      }
    }

    await round(1_500, 150);
    const warmed = rssOf(running);
    await round(1_500, 150);
    const after = rssOf(running);
    console.log(`      fuzz seed ${seed}: ${JSON.stringify(Object.fromEntries(answers))}`);
    for (const [label, rss] of after) {
      const before = warmed.get(label) ?? 0;
      console.log(
        `      ${label}: RSS ${mb(before)} MB after round 1, ${mb(rss)} MB after round 2`,
      );
      expect(rss, `${label} memory`).to.be.below(before * 1.25 + 8 * 1024 * 1024);
    }
    for (const proc of running.values())
      if (proc.label !== 'kitchen-1')
        expect(proc.running, `${proc.label} still runs`).to.equal(true);

    // Everyone still hears: a valid order goes all the way, and the poison is in the DLQ.
    const fine = await post(
      JSON.stringify({ customer: 'Jisoo', items: [{ dish: 'japchae', quantity: 1 }] }),
    );
    expect(fine.status).to.equal(202);
    await waitFor(async () => (await order(fine.body['id'] as string)).status === 'served', {
      timeout: 30_000,
    });
    const jsm = await nc.jetstreamManager();
    expect((await jsm.streams.info('DEAD_LETTERS')).state.messages).to.be.greaterThan(0);
  });
});

/** Sends raw bytes to an HTTP port; resolves with whatever came back before the server closed. */
/** The order as reception's live page feed (`/events`) has it now. */
async function feedEntry(port: number, id: string): Promise<Record<string, unknown>> {
  const controller = new AbortController();
  const res = await fetch(`http://127.0.0.1:${port}/events`, { signal: controller.signal });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the feed ended without order ${id}`);
      text += new TextDecoder().decode(value);
      const entries = text
        .slice(0, text.lastIndexOf('\n'))
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
      const entry = entries.find((e) => e['id'] === id);
      if (entry) return entry;
    }
  } finally {
    controller.abort();
  }
}

function rawHttp(port: number, request: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port, noDelay: true });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('reception did not answer within 5 s'));
    }, 5_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined); // a reset after the answer is fine
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.end(request);
  });
}

/** Resident memory of each running service process, in bytes. */
function rssOf(running: Map<string, RunningProcess>): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const proc of running.values()) {
    if (!proc.running || proc.child.pid === undefined) continue;
    const status = readFileSync(`/proc/${proc.child.pid}/status`, 'utf8');
    sizes.set(proc.label, Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024);
  }
  return sizes;
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
