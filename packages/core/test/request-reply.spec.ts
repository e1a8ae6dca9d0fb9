import 'reflect-metadata';
import { expect } from 'chai';
import { connect, headers, JSONCodec, StringCodec, type NatsConnection } from 'nats';
import {
  BadRequestError,
  Bus,
  ConflictError,
  Endpoint,
  InvalidOptionError,
  InvalidSubjectError,
  NoRespondersError,
  NotFoundError,
  RequestTimeoutError,
  Service,
  ServiceError,
  Subscribe,
  ValidationError,
  type BrigadeApp,
  type MessageContext,
} from '@brigade/core';
import { Cleanup, NatsServer, startApp, waitFor } from '@brigade/testing';
import { captureLogs } from './support/log-capture';

const json = JSONCodec();
const text = StringCodec();

describe('request-reply and errors @integration', () => {
  const cleanup = new Cleanup();
  let server: NatsServer;
  let client: NatsConnection;
  let app: BrigadeApp;
  const calls: unknown[] = [];
  const logs = captureLogs();

  @Service({ name: 'menu', version: '1.0.0' })
  class Menu {
    @Endpoint('menu.price')
    price(query: { dish: string }): { dish: string; price: number } {
      calls.push(query);
      if (query.dish === 'unicorn')
        throw new NotFoundError(`no dish '${query.dish}'`, { details: { dish: query.dish } });
      if (query.dish === '')
        throw new ValidationError('dish is required', { details: { field: 'dish' } });
      return { dish: query.dish, price: 12 };
    }

    @Endpoint('menu.echo')
    echo(body: unknown, ctx: MessageContext): unknown {
      return {
        body: body === undefined ? 'undefined' : body,
        header: ctx.headers.get('x-table') ?? null,
      };
    }

    @Endpoint('menu.bytes', { payload: 'raw' })
    bytes(body: Uint8Array): Uint8Array {
      return Uint8Array.from(body).reverse();
    }

    @Endpoint('menu.crash')
    crash(): never {
      throw new TypeError('cannot read properties of undefined (secret internals)');
    }

    @Endpoint('menu.reject')
    async reject(): Promise<never> {
      throw new ConflictError('table already taken');
    }

    @Endpoint('menu.nothing')
    nothing(): void {}

    @Endpoint('menu.slow')
    async slow(ms: number): Promise<string> {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return 'done';
    }

    @Endpoint('menu.huge')
    huge(): string {
      return 'x'.repeat(2 * 1024 * 1024); // over the server's 1 MiB max_payload
    }

    @Endpoint('menu.circular')
    circular(): unknown {
      const value: Record<string, unknown> = {};
      value['self'] = value;
      return value;
    }

    @Subscribe('menu.events.bad')
    badEvent(): void {
      throw new Error('event handler bug');
    }

    @Subscribe('menu.events.good')
    goodEvent(n: number): void {
      calls.push(n);
    }
  }

  beforeEach(async () => {
    calls.length = 0;
    logs.lines.length = 0;
    server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
    app = cleanup.add(
      await startApp(server, { services: [Menu], logger: { instance: logs.logger } }),
      (a) => a.stop(),
    );
  });
  afterEach(() => cleanup.run());

  describe('with a plain nats client on the other side', () => {
    it('gets the plain JSON reply to a plain JSON request: no envelope', async () => {
      const reply = await client.request('menu.price', text.encode('{"dish":"pasta"}'));
      expect(reply.string()).to.equal('{"dish":"pasta","price":12}');
      expect(reply.headers).to.equal(undefined);
      expect(calls).to.deep.equal([{ dish: 'pasta' }]);
    });

    it('treats an empty request body as undefined', async () => {
      const reply = await client.request('menu.echo');
      expect(json.decode(reply.data)).to.deep.equal({ body: 'undefined', header: null });
    });

    it('passes request headers to the handler', async () => {
      const h = headers();
      h.set('X-Table', '7');
      const reply = await client.request('menu.echo', json.encode(1), {
        headers: h,
        timeout: 5_000,
      });
      expect(json.decode(reply.data)).to.deep.equal({ body: 1, header: '7' });
    });

    it('answers an endpoint returning nothing with an empty body', async () => {
      const reply = await client.request('menu.nothing');
      expect(reply.data.length).to.equal(0);
    });

    it('hands raw bytes to a raw endpoint and sends returned bytes as they are', async () => {
      const reply = await client.request('menu.bytes', Uint8Array.of(1, 2, 3, 255));
      expect([...reply.data]).to.deep.equal([255, 3, 2, 1]);
    });

    it('turns a thrown ServiceError into the Nats-Service-Error headers and a JSON body', async () => {
      const reply = await client.request('menu.price', json.encode({ dish: 'unicorn' }));
      expect(reply.headers?.get('Nats-Service-Error')).to.equal("no dish 'unicorn'");
      expect(reply.headers?.get('Nats-Service-Error-Code')).to.equal('404');
      expect(json.decode(reply.data)).to.deep.equal({
        code: 404,
        message: "no dish 'unicorn'",
        details: { dish: 'unicorn' },
      });
    });

    it('turns any other error into a generic 500 with no stack on the wire, logged in full locally', async () => {
      const reply = await client.request('menu.crash');
      expect(reply.headers?.get('Nats-Service-Error-Code')).to.equal('500');
      expect(reply.headers?.get('Nats-Service-Error')).to.equal('internal error');
      const wire = reply.string();
      expect(wire).to.equal('{"code":500,"message":"internal error"}');
      expect(wire).to.not.include('secret internals');
      const logged = logs.lines.find((l) =>
        String(l['msg']).startsWith("menu#crash on 'menu.crash' failed: TypeError: "),
      );
      expect(logged, 'the failure is logged').to.not.equal(undefined);
      const err = logged?.['err'] as { message: string; stack: string; type: string };
      expect(err.type).to.equal('TypeError');
      expect(err.message).to.include('secret internals');
      expect(err.stack).to.include('request-reply.spec.ts');
      expect(logged?.['correlationId']).to.be.a('string');
    });

    it('answers malformed JSON with 400 and does not call the handler', async () => {
      const reply = await client.request('menu.price', text.encode('{"dish":'));
      expect(reply.headers?.get('Nats-Service-Error-Code')).to.equal('400');
      expect(reply.headers?.get('Nats-Service-Error')).to.match(/^the body is not valid JSON/);
      expect(calls).to.deep.equal([]);
    });

    it('answers a result that cannot be encoded with 500', async () => {
      const reply = await client.request('menu.circular');
      expect(reply.headers?.get('Nats-Service-Error-Code')).to.equal('500');
    });

    it('answers 500 when the reply is too large for the server, instead of leaving the caller waiting', async () => {
      const reply = await client.request('menu.huge', undefined, { timeout: 5_000 });
      expect(reply.headers?.get('Nats-Service-Error-Code')).to.equal('500');
      expect(reply.headers?.get('Nats-Service-Error')).to.equal('the reply could not be sent');
      expect(app.stats().find((s) => s.handler.name === 'huge')?.stats).to.include({
        numRequests: 1,
        numErrors: 1,
      });
    });

    it("gets the server's no-responders status on a subject nobody serves", async () => {
      const failure = await client
        .request('menu.missing')
        .catch((e: Error & { code: string }) => e);
      expect((failure as { code: string }).code).to.equal('503');
    });
  });

  describe('with the Brigade client', () => {
    it('calls a plain nats responder and gets its plain JSON', async () => {
      client.subscribe('plain.add', {
        callback: (_err, msg) => {
          const { a, b } = json.decode(msg.data) as { a: number; b: number };
          msg.respond(json.encode({ sum: a + b }));
        },
      });
      await client.flush();
      expect(await app.bus.request<{ sum: number }>('plain.add', { a: 2, b: 3 })).to.deep.equal({
        sum: 5,
      });
    });

    it('rebuilds typed errors with their code and details', async () => {
      const notFound = await app.bus
        .request('menu.price', { dish: 'unicorn' })
        .catch((e: unknown) => e);
      expect(notFound).to.be.instanceOf(NotFoundError);
      expect(notFound).to.include({
        status: 404,
        code: 'SERVICE_ERROR',
        message: "no dish 'unicorn'",
      });
      expect((notFound as NotFoundError).details).to.deep.equal({ dish: 'unicorn' });

      const invalid = await app.bus.request('menu.price', { dish: '' }).catch((e: unknown) => e);
      expect(invalid).to.be.instanceOf(ValidationError).and.include({ status: 422 });
      const conflict = await app.bus.request('menu.reject').catch((e: unknown) => e);
      expect(conflict).to.be.instanceOf(ConflictError).and.include({ status: 409 });
    });

    it('rebuilds an error reply from a plain responder, by its headers alone', async () => {
      client.subscribe('plain.teapot', {
        callback: (_err, msg) => {
          const h = headers();
          h.set('Nats-Service-Error', 'short and stout');
          h.set('Nats-Service-Error-Code', '418');
          msg.respond(undefined, { headers: h });
        },
      });
      await client.flush();
      const failure = await app.bus.request('plain.teapot').catch((e: unknown) => e);
      expect(failure)
        .to.be.instanceOf(ServiceError)
        .and.include({ status: 418, message: 'short and stout' });
    });

    it('raises NoRespondersError when nobody listens', async () => {
      const failure = await app.bus.request('nobody.listens', {}).catch((e: unknown) => e);
      expect(failure)
        .to.be.instanceOf(NoRespondersError)
        .and.include({ code: 'NO_RESPONDERS', subject: 'nobody.listens' });
    });

    it('raises RequestTimeoutError when the reply does not come in time', async () => {
      const started = Date.now();
      const failure = await app.bus
        .request('menu.slow', 2_000, { timeout: 100 })
        .catch((e: unknown) => e);
      expect(failure)
        .to.be.instanceOf(RequestTimeoutError)
        .and.include({ code: 'REQUEST_TIMEOUT', timeoutMs: 100 });
      expect(Date.now() - started).to.be.within(90, 1_000);
      expect(await app.bus.request('menu.slow', 10, { timeout: 1_000 })).to.equal('done');
    });

    it('uses the app-wide default timeout', async () => {
      const quick = cleanup.add(
        await startApp(server, { services: [Menu], requestTimeoutMs: 80 }),
        (a) => a.stop(),
      );
      const failure = await quick.bus.request('menu.slow', 1_000).catch((e: unknown) => e);
      expect(failure).to.be.instanceOf(RequestTimeoutError).and.include({ timeoutMs: 80 });
    });

    it('sends headers on publish and request', async () => {
      const seen: string[] = [];
      client.subscribe('plain.headers', {
        callback: (_err, msg) => {
          seen.push(msg.headers?.get('x-table') ?? 'none');
          msg.respond(json.encode('ok'));
        },
      });
      await client.flush();
      await app.bus.publish('plain.headers', {}, { headers: { 'x-table': '3' } });
      await app.bus.request('plain.headers', {}, { headers: { 'x-table': '4' } });
      await waitFor(() => seen.length === 2);
      expect(seen).to.deep.equal(['3', '4']);
    });

    it('gathers the replies of every instance with requestMany', async () => {
      @Service({ name: 'oven' })
      class Oven {
        private static next = 0;
        private readonly id = ++Oven.next;

        @Endpoint('oven.temperature', { queue: false })
        temperature(): number {
          if (this.id === 3) throw new BadRequestError('oven 3 is off');
          return 200 + this.id;
        }
      }
      for (let i = 0; i < 3; i++)
        cleanup.add(await startApp(server, { services: [Oven] }), (a) => a.stop());
      const replies = await app.bus.requestMany<number>('oven.temperature', undefined, {
        maxWait: 300,
      });
      const values = replies.flatMap((r) => (r.ok ? [r.value] : [])).sort();
      const errors = replies.flatMap((r) => (r.ok ? [] : [r.error]));
      expect(values).to.deep.equal([201, 202]);
      expect(errors).to.have.length(1);
      expect(errors[0]).to.be.instanceOf(BadRequestError);
      const two = await app.bus.requestMany('oven.temperature', undefined, {
        maxWait: 2_000,
        maxReplies: 2,
      });
      expect(two).to.have.length(2);
    });

    it('stops gathering once replies stall, long before maxWait, and still gets every burst', async () => {
      @Service({ name: 'bell' })
      class Bell {
        @Endpoint('bell.ring', { queue: false })
        ring(): string {
          return 'ding';
        }
      }
      for (let i = 0; i < 3; i++)
        cleanup.add(await startApp(server, { services: [Bell] }), (a) => a.stop());
      const started = performance.now();
      const replies = await app.bus.requestMany('bell.ring', undefined, {
        maxWait: 10_000,
        stall: 200,
      });
      const took = performance.now() - started;
      expect(replies.filter((r) => r.ok)).to.have.length(3);
      expect(took).to.be.below(5_000);
      const nobody = await app.bus
        .requestMany('bell.nobody', undefined, { maxWait: 300, stall: -1 })
        .catch((e: unknown) => e);
      expect(nobody).to.be.instanceOf(InvalidOptionError);
    });

    it('refuses to send to an invalid or wildcard subject', async () => {
      for (const subject of ['a..b', 'orders.*', 'orders.>', '']) {
        const failure = await app.bus.publish(subject, {}).catch((e: unknown) => e);
        // A 400: subjects are often built from a caller's input.
        expect(failure, subject).to.be.instanceOf(InvalidSubjectError);
        expect(failure, subject).to.include({ status: 400, subject });
      }
      const badTimeout = await app.bus
        .request('menu.price', {}, { timeout: -1 })
        .catch((e: unknown) => e);
      expect(badTimeout).to.be.instanceOf(InvalidOptionError);
    });

    it('is injectable and typed', async () => {
      expect(app.bus).to.be.instanceOf(Bus);
    });
  });

  describe('event handlers', () => {
    it('logs and counts a throwing event handler, and keeps going', async () => {
      for (let i = 0; i < 3; i++) await app.bus.publish('menu.events.bad', i);
      await app.bus.publish('menu.events.good', 42);
      await waitFor(() => calls.includes(42));
      const stats = app.stats().find((s) => s.handler.name === 'badEvent')?.stats;
      await waitFor(
        () =>
          stats && app.stats().find((s) => s.handler.name === 'badEvent')?.stats.numErrors === 3,
      );
      const last = app.stats().find((s) => s.handler.name === 'badEvent')?.stats;
      expect(last).to.include({ numRequests: 3, numErrors: 3, lastError: '500 internal error' });
      const logged = logs.lines.filter(
        (l) => (l['err'] as { message?: string } | undefined)?.message === 'event handler bug',
      );
      // The first in full; the others are counted in a summary line (when the interval ends).
      expect(logged).to.have.length(1);
      expect(await app.bus.request('menu.price', { dish: 'soup' })).to.deep.equal({
        dish: 'soup',
        price: 12,
      });
    });

    it('logs malformed JSON on an event and does not call the handler', async () => {
      client.publish('menu.events.good', text.encode('not json'));
      client.publish('menu.events.good', json.encode(7));
      await waitFor(() => calls.includes(7));
      expect(calls).to.deep.equal([7]);
      const stats = app.stats().find((s) => s.handler.name === 'goodEvent')?.stats;
      expect(stats?.numErrors).to.equal(1);
      expect(stats?.lastError).to.match(/^400 the body is not valid JSON/);
    });
  });
});
