import { expect } from 'chai';
import { connect, type NatsConnection } from 'nats';
import {
  CodecError,
  DeadLetters,
  Endpoint,
  Service,
  Subscribe,
  type BrigadeApp,
  type MessageContext,
} from '@brigade/core';
import { Cleanup, NatsServer, RawNatsConnection, startApp, waitFor } from '@brigade/testing';
import { captureLogs } from './support/log-capture';

/** Header blocks the `nats` client cannot decode: legal bytes on the wire all the same. */
const UNDECODABLE = {
  'a space in a name': 'NATS/1.0\r\nBad Name: x\r\n\r\n',
  'a non-ASCII name': 'NATS/1.0\r\nnamé: x\r\n\r\n',
  'a control character in a name': 'NATS/1.0\r\nx\u0001y: z\r\n\r\n',
} as const;
const ORDER = JSON.stringify({ id: 'o-1' });

describe('hostile input @integration', () => {
  const cleanup = new Cleanup();
  let server: NatsServer;
  let client: NatsConnection;
  let raw: RawNatsConnection;

  beforeEach(async () => {
    server = cleanup.add(await NatsServer.start({ jetstream: true }), (s) => s.stop());
    client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
    raw = cleanup.add(await RawNatsConnection.open(server.url), (c) => c.close());
  });
  afterEach(() => cleanup.run());

  const seen: unknown[] = [];
  beforeEach(() => (seen.length = 0));

  @Service({ name: 'hostile' })
  class Target {
    @Endpoint('hostile.echo')
    echo(body: unknown): unknown {
      return { body };
    }

    @Subscribe('hostile.noted')
    noted(body: unknown): void {
      seen.push(body);
    }

    @Subscribe('orders.placed', { durable: { stream: 'ORDERS', backoff: ['10ms'] } })
    cook(body: unknown): void {
      seen.push(body);
    }
  }

  function start(): Promise<BrigadeApp> {
    return startApp(server, {
      services: [Target],
      streams: [{ name: 'ORDERS', subjects: ['orders.>'] }],
    }).then((app) => cleanup.add(app, (a) => a.stop()));
  }

  function statsOf(app: BrigadeApp, subject: string) {
    const snapshot = app.stats().find((s) => s.handler.subject === subject);
    if (!snapshot) throw new Error(`no handler on ${subject}`);
    return snapshot.stats;
  }

  for (const [what, headers] of Object.entries(UNDECODABLE)) {
    describe(`a header block with ${what}`, () => {
      it('is answered 400 by an endpoint, which keeps answering', async () => {
        await start();
        const reply = await raw.request('hostile.echo', { headers, payload: ORDER });
        expect(reply.headers?.toString()).to.match(/Nats-Service-Error-Code: 400/);
        expect(reply.headers?.toString()).to.match(/Nats-Service-Error: malformed headers/);
        const body = JSON.parse(reply.payload.toString()) as { code: number; message: string };
        expect(body.code).to.equal(400);
        expect(body.message).to.not.match(/ at |\.ts|node_modules/);
        const ok = await client.request('hostile.echo', new TextEncoder().encode(ORDER));
        expect(ok.json()).to.deep.equal({ body: { id: 'o-1' } });
      });

      it('is counted and dropped by an event handler, which keeps reading', async () => {
        const app = await start();
        raw.publish('hostile.noted', { headers, payload: ORDER });
        await raw.flush();
        client.publish('hostile.noted', new TextEncoder().encode('{"after":true}'));
        await waitFor(() => seen.length === 1, { message: 'the next event to be handled' });
        expect(seen).to.deep.equal([{ after: true }]);
        const stats = statsOf(app, 'hostile.noted');
        expect(stats.numErrors).to.equal(1);
        expect(stats.lastError).to.match(/^400 malformed headers/);
      });

      it('is dead-lettered by a durable handler with the reason, and the stream flows on', async () => {
        const app = await start();
        raw.publish('orders.placed', { headers, payload: ORDER });
        await raw.flush();
        await client.jetstream().publish('orders.placed', new TextEncoder().encode('{"n":2}'));
        await waitFor(() => seen.length === 1, { message: 'the next durable event' });
        expect(seen).to.deep.equal([{ n: 2 }]);
        const letters = await waitFor(async () => {
          const list = await app.deadLetters.list();
          return list.length === 1 ? list : undefined;
        });
        const letter = letters[0] as Awaited<ReturnType<DeadLetters['list']>>[number];
        expect(letter.reason).to.match(/^malformed headers/);
        expect(letter.code).to.equal(400);
        expect(new TextDecoder().decode(letter.data)).to.equal(ORDER);
        // A letter someone stored with such headers straight into the dead-letter stream is
        // listed too, its unreadable headers left out, instead of failing the listing.
        raw.publish('dlq.ORDERS.hostile_cook', { headers, payload: '{"stray":true}' });
        await raw.flush();
        const all = await waitFor(async () => {
          const list = await app.deadLetters.list();
          return list.length === 2 ? list : undefined;
        });
        expect(all[1]?.headers).to.deep.equal({});
        expect(new TextDecoder().decode(all[1]?.data)).to.equal('{"stray":true}');
      });

      it('fails only the one request when it comes back as a reply', async () => {
        const app = await start();
        const responder = raw.subscribe('poisoned.reply');
        await raw.flush();
        const bus = app.bus;
        const pending = bus.request('poisoned.reply', { q: 1 }, { timeout: 2_000 });
        const request = await responder.next();
        raw.publish(request.reply as string, { headers, payload: '{}' });
        const failure = await pending.catch((e: unknown) => e);
        expect(failure).to.be.instanceOf(CodecError);
        expect((failure as Error).message).to.match(/headers/);
        // The requester still hears replies.
        expect(await bus.request('hostile.echo', { n: 3 })).to.deep.equal({ body: { n: 3 } });
      });
    });
  }

  it('leaves a requestMany with a poisoned reply among good ones with the good ones', async () => {
    const app = await start();
    const responder = raw.subscribe('poisoned.many');
    await raw.flush();
    const pending = app.bus.requestMany('poisoned.many', {}, { maxWait: 300 });
    const request = await responder.next();
    raw.publish(request.reply as string, { headers: UNDECODABLE['a space in a name'] });
    raw.publish(request.reply as string, { payload: '{"fine":true}' });
    const replies = await pending;
    expect(replies.map((r) => r.ok)).to.deep.equal([false, true]);
  });

  it('answers invalid UTF-8 and JSON nested a hundred thousand deep with 400 or a result, never a crash', async () => {
    await start();
    const invalid = await raw.request('hostile.echo', { payload: Buffer.from([0x7b, 0xff, 0x7d]) });
    expect(JSON.parse(invalid.payload.toString())).to.include({ code: 400 });
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const answer = await raw.request('hostile.echo', { payload: deep });
    expect(answer.headers?.toString() ?? '').to.not.match(/Nats-Service-Error-Code: 500/);
    const ok = await client.request('hostile.echo', new TextEncoder().encode('1'));
    expect(ok.json()).to.deep.equal({ body: 1 });
  });

  it('cuts client-supplied values in log lines', async () => {
    const logs = captureLogs();
    @Service({ name: 'chatty' })
    class Chatty {
      @Endpoint('chatty.log')
      log(_body: unknown, ctx: MessageContext): string {
        ctx.logger.info('handled');
        return 'ok';
      }
    }
    await startApp(server, { services: [Chatty], logger: { instance: logs.logger } }).then((app) =>
      cleanup.add(app, (a) => a.stop()),
    );
    const correlation = 'c'.repeat(60_000);
    const reply = await raw.request('chatty.log', {
      headers: `NATS/1.0\r\ncorrelation-id: ${correlation}\r\n\r\n`,
    });
    expect(reply.payload.toString()).to.equal('"ok"');
    const line = logs.lines.find((l) => l['msg'] === 'handled');
    expect(String(line?.['correlationId']))
      .to.have.length.below(200)
      .and.include('60000 characters');
    expect(JSON.stringify(logs.lines).length).to.be.below(10_000);
  });

  it('does not deafen the Service API', async () => {
    await start();
    raw.publish('$SRV.PING', { headers: UNDECODABLE['a space in a name'], reply: 'nowhere' });
    await raw.flush();
    const pong = await client.request('$SRV.PING.hostile');
    expect(pong.json()).to.include({ name: 'hostile' });
  });
});
