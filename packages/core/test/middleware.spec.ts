import { expect } from 'chai';
import { headers as createHeaders, JSONCodec } from 'nats';
import {
  Bus,
  DefinitionError,
  Endpoint,
  PermanentError,
  Service,
  StartError,
  ServiceError,
  Subscribe,
  NoRespondersError,
  type MessageContext,
  type Middleware,
  type OutgoingMiddleware,
  type OnStart,
  type OnStop,
} from '@brigade/core';
import { startApp, waitFor } from '@brigade/testing';
import { serverPerTest } from './support/server-per-test';
import { exploreServices } from '@brigade/core/internal';

const json = JSONCodec();

/** What an auth middleware a user writes would throw. */
class Unauthorized extends ServiceError {
  constructor(message: string) {
    super(401, message);
  }
}

describe('middleware @integration', () => {
  const bed = serverPerTest({ jetstream: true });
  const trail: string[] = [];
  beforeEach(() => (trail.length = 0));

  const tag =
    (name: string): Middleware =>
    async (invocation, next) => {
      trail.push(`${name}>`);
      try {
        return await next();
      } finally {
        trail.push(`<${name}`);
      }
    };

  it('runs app, service and handler middleware outermost first, around every kind of handler', async () => {
    @Service({ name: 'layered', middleware: [tag('service')] })
    class Layered {
      @Endpoint('layered.ask', { middleware: [tag('handler')] })
      ask(): string {
        trail.push('handler');
        return 'answer';
      }

      @Subscribe('layered.told')
      told(): void {
        trail.push('event');
      }

      @Subscribe('kept.told', { durable: { stream: 'KEPT' } })
      kept(): void {
        trail.push('durable');
      }
    }
    const app = await startApp(bed.server, {
      services: [Layered],
      streams: [{ name: 'KEPT', subjects: ['kept.>'] }],
      middleware: [tag('app')],
    }).then((a) => bed.cleanup.add(a, (x) => x.stop()));
    expect(await app.bus.request('layered.ask')).to.equal('answer');
    expect(trail).to.deep.equal([
      'app>',
      'service>',
      'handler>',
      'handler',
      '<handler',
      '<service',
      '<app',
    ]);
    trail.length = 0;
    await app.bus.publish('layered.told', {});
    await waitFor(() => trail.length === 5);
    expect(trail).to.deep.equal(['app>', 'service>', 'event', '<service', '<app']);
    trail.length = 0;
    await app.bus.publish('kept.told', {}, { durable: true });
    await waitFor(() => trail.length === 5);
    expect(trail).to.deep.equal(['app>', 'service>', 'durable', '<service', '<app']);
  });

  it('can short-circuit, change the result, throw a ServiceError, and see the payload and context', async () => {
    let handled = 0;
    const auth: Middleware = (invocation, next) => {
      if (invocation.context.headers.get('authorization') !== 'Bearer good')
        throw new Unauthorized('who are you?');
      return next();
    };
    const wrap: Middleware = async (invocation, next) => {
      invocation.payload = { ...(invocation.payload as object), seenBy: invocation.handler.name };
      return { wrapped: await next() };
    };
    const cached: Middleware = (invocation, next) =>
      (invocation.payload as { cached?: boolean }).cached ? 'from cache' : next();
    @Service({ name: 'guarded', middleware: [auth] })
    class Guarded {
      @Endpoint('guarded.echo', { middleware: [wrap, cached] })
      echo(body: unknown): unknown {
        handled++;
        return body;
      }
    }
    await startApp(bed.server, { services: [Guarded] }).then((a) =>
      bed.cleanup.add(a, (x) => x.stop()),
    );
    const hdrs = (value: string) => {
      const h = createHeaders();
      h.set('authorization', value);
      return h;
    };
    const denied = await bed.client.request('guarded.echo', json.encode({}), {
      timeout: 2_000,
      headers: hdrs('nope'),
    });
    expect(denied.headers?.get('Nats-Service-Error-Code')).to.equal('401');
    expect(denied.headers?.get('Nats-Service-Error')).to.equal('who are you?');
    const ok = await bed.client.request('guarded.echo', json.encode({ n: 1 }), {
      timeout: 2_000,
      headers: hdrs('Bearer good'),
    });
    expect(ok.json()).to.deep.equal({ wrapped: { n: 1, seenBy: 'echo' } });
    const cachedReply = await bed.client.request('guarded.echo', json.encode({ cached: true }), {
      timeout: 2_000,
      headers: hdrs('Bearer good'),
    });
    expect(cachedReply.json()).to.deep.equal({ wrapped: 'from cache' });
    expect(handled).to.equal(1);
  });

  it('maps what a middleware throws like a handler throw: 500 for the unexpected, naks and dead letters for durable', async () => {
    let attempts = 0;
    const flaky: Middleware = async (invocation, next) => {
      const { mode } = invocation.payload as { mode: string };
      if (mode === 'permanent') throw new PermanentError('not for this kitchen');
      if (mode === 'retry' && ++attempts < 3) throw new Error('try again');
      return next();
    };
    const seen: string[] = [];
    @Service({ name: 'flaky' })
    class Flaky {
      @Endpoint('flaky.ask', {
        middleware: [
          () => {
            throw new Error('secret internals');
          },
        ],
      })
      ask(): string {
        return 'never';
      }

      @Subscribe('jobs.run', {
        durable: { stream: 'JOBS', backoff: ['10ms'] },
        middleware: [flaky],
      })
      run(body: { mode: string }): void {
        seen.push(body.mode);
      }
    }
    const app = await startApp(bed.server, {
      services: [Flaky],
      streams: [{ name: 'JOBS', subjects: ['jobs.>'] }],
    }).then((a) => bed.cleanup.add(a, (x) => x.stop()));
    const crash = await bed.client.request('flaky.ask');
    expect(crash.headers?.get('Nats-Service-Error-Code')).to.equal('500');
    expect(crash.headers?.get('Nats-Service-Error')).to.equal('internal error');
    await app.bus.publish('jobs.run', { mode: 'retry' }, { durable: true });
    await app.bus.publish('jobs.run', { mode: 'permanent' }, { durable: true });
    await waitFor(() => seen.includes('retry'));
    expect(attempts).to.equal(3);
    const letters = await waitFor(async () => {
      const list = await app.deadLetters.list();
      return list.length === 1 ? list : undefined;
    });
    expect(letters[0]).to.include({ reason: 'PermanentError: not for this kitchen', attempts: 1 });
    expect(seen).to.deep.equal(['retry']);
  });

  it('runs inside the message context: what it publishes carries the trace and correlation', async () => {
    const audit: Middleware = async (invocation, next) => {
      const result = await next();
      await bus?.publish('audit.done', { handler: invocation.handler.name });
      return result;
    };
    let bus: Bus | undefined;
    @Service({ name: 'traced', middleware: [audit] })
    class Traced {
      constructor(injected: Bus) {
        bus = injected;
      }

      @Endpoint('traced.ask')
      ask(): string {
        return 'ok';
      }
    }
    await startApp(bed.server, { services: [Traced] }).then((a) =>
      bed.cleanup.add(a, (x) => x.stop()),
    );
    const sub = bed.client.subscribe('audit.done', { max: 1 });
    await bed.client.flush();
    const hdrs = createHeaders();
    hdrs.set('correlation-id', 'corr-7');
    hdrs.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    await bed.client.request('traced.ask', undefined, { timeout: 2_000, headers: hdrs });
    for await (const m of sub) {
      expect(m.headers?.get('correlation-id')).to.equal('corr-7');
      expect(m.headers?.get('traceparent')).to.match(/^00-0af7651916cd43dd8448eb211c80319c-/);
    }
  });

  it('refuses middleware that is not a list of functions, naming where', () => {
    @Service({ name: 'odd', middleware: ['nope' as never] })
    class Odd {}
    expect(() => exploreServices([Odd])).to.throw(
      DefinitionError,
      "Odd (@Service 'odd'): invalid middleware",
    );
  });
});

describe('service lifecycle @integration', () => {
  const bed = serverPerTest();

  it('awaits onStart before subscribing and onStop after draining, before the connection closes', async () => {
    const events: string[] = [];
    @Service({ name: 'lifecycle' })
    class Lifecycle implements OnStart, OnStop {
      constructor(private readonly bus: Bus) {}

      async onStart(): Promise<void> {
        events.push('onStart');
        // Not subscribed yet: nobody answers its own subject.
        const early = await this.bus
          .request('lifecycle.ping', undefined, { timeout: 200 })
          .catch((e: Error) => e.name);
        events.push(`early ${String(early)}`);
      }

      @Endpoint('lifecycle.ping')
      async ping(): Promise<string> {
        events.push('ping');
        await new Promise((resolve) => setTimeout(resolve, 100));
        return 'pong';
      }

      async onStop(): Promise<void> {
        events.push('onStop');
        // The connection is still open: a last message goes out.
        await this.bus.publish('lifecycle.bye', {});
      }
    }
    const bye = bed.client.subscribe('lifecycle.bye', { max: 1 });
    await bed.client.flush();
    const app = await startApp(bed.server, { services: [Lifecycle] });
    const pending = bed.client.request('lifecycle.ping', undefined, { timeout: 2_000 });
    await waitFor(() => events.includes('ping'));
    await app.stop();
    expect((await pending).json()).to.equal('pong');
    expect(events).to.deep.equal(['onStart', 'early NoRespondersError', 'ping', 'onStop']);
    for await (const m of bye) expect(m.subject).to.equal('lifecycle.bye');
  });

  it('fails start naming the service when onStart fails, and subscribes nothing', async () => {
    @Service({ name: 'broken' })
    class Broken {
      onStart(): void {
        throw new Error('the bucket is gone');
      }

      @Endpoint('broken.ping')
      ping(): string {
        return 'pong';
      }
    }
    const failure = await startApp(bed.server, { services: [Broken] }).catch((e: unknown) => e);
    expect(failure).to.be.instanceOf(StartError);
    expect((failure as Error).message).to.equal(
      "Broken (service 'broken') failed in onStart: the bucket is gone",
    );
    expect(((failure as Error).cause as Error).message).to.equal('the bucket is gone');
    const nobody = await bed.client
      .request('broken.ping', undefined, { timeout: 300 })
      .catch((e: Error) => e.message);
    expect(String(nobody)).to.match(/503|no responders/i);
  });
});

describe('outgoing middleware @integration', () => {
  const bed = serverPerTest({ jetstream: true });

  it('sees every publish, durable publish, request and requestMany, may add headers and sees outcomes', async () => {
    const seen: string[] = [];
    const stamp: OutgoingMiddleware = async (message, next) => {
      message.headers['x-sent-by'] = 'stamp';
      try {
        const outcome = await next();
        seen.push(`${message.operation} ${message.subject} ok`);
        return outcome;
      } catch (err) {
        seen.push(`${message.operation} ${message.subject} ${(err as Error).name}`);
        throw err;
      }
    };
    let echoedHeader: string | undefined;
    @Service({ name: 'outbound' })
    class Outbound {
      constructor(private readonly bus: Bus) {}

      @Endpoint('outbound.echo')
      echo(body: unknown, ctx: MessageContext): unknown {
        echoedHeader = ctx.headers.get('x-sent-by');
        return body;
      }

      @Endpoint('outbound.relay')
      async relay(): Promise<unknown> {
        return this.bus.request('outbound.echo', { relayed: true });
      }
    }
    const app = await startApp(bed.server, {
      services: [Outbound],
      streams: [{ name: 'OUT', subjects: ['out.>'] }],
      outgoing: [stamp],
    }).then((a) => bed.cleanup.add(a, (x) => x.stop()));
    const events = bed.client.subscribe('out.plain', { max: 1 });
    await bed.client.flush();

    expect(await app.bus.request('outbound.echo', { n: 1 })).to.deep.equal({ n: 1 });
    expect(echoedHeader).to.equal('stamp');
    await app.bus.publish('out.plain', { n: 2 });
    for await (const m of events) expect(m.headers?.get('x-sent-by')).to.equal('stamp');
    expect(await app.bus.publish('out.kept', { n: 3 }, { durable: true })).to.include({
      stream: 'OUT',
    });
    expect(await app.bus.requestMany('outbound.echo', { n: 4 }, { maxWait: 200 })).to.have.length(
      1,
    );
    const failure = await app.bus.request('nobody.home', {}).catch((e: Error) => e);
    expect(failure).to.be.instanceOf(NoRespondersError);
    // Inside a handler, the message carries the handler's correlation id to the middleware too.
    expect(
      await bed.client
        .request('outbound.relay', undefined, { timeout: 2_000 })
        .then((m) => m.json()),
    ).to.deep.equal({ relayed: true });
    expect(seen).to.deep.equal([
      'request outbound.echo ok',
      'publish out.plain ok',
      'durable-publish out.kept ok',
      'request-many outbound.echo ok',
      'request nobody.home NoRespondersError',
      'request outbound.echo ok',
    ]);
  });

  it('puts the propagation headers of the message being handled in front of the middleware', async () => {
    let headers: Record<string, unknown> = {};
    const spy: OutgoingMiddleware = (message, next) => {
      headers = { ...message.headers };
      return next();
    };
    @Service({ name: 'propagating' })
    class Propagating {
      constructor(private readonly bus: Bus) {}

      @Subscribe('propagating.in')
      async in(): Promise<void> {
        await this.bus.publish('propagating.out', {});
      }
    }
    await startApp(bed.server, { services: [Propagating], outgoing: [spy] }).then((a) =>
      bed.cleanup.add(a, (x) => x.stop()),
    );
    const hdrs = createHeaders();
    hdrs.set('correlation-id', 'corr-9');
    bed.client.publish('propagating.in', json.encode({}), { headers: hdrs });
    await waitFor(() => headers['correlation-id'] === 'corr-9');
  });
});
