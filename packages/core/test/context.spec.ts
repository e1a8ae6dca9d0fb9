import 'reflect-metadata';
import { expect } from 'chai';
import { connect, headers, JSONCodec, type Msg, type NatsConnection } from 'nats';
import {
  Bus,
  Endpoint,
  Service,
  Subscribe,
  type BrigadeApp,
  type MessageContext,
} from '@brigade/core';
import { Cleanup, NatsServer, startApp, waitFor } from '@brigade/testing';
import { captureLogs } from './support/log-capture';

const json = JSONCodec();
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe('message context and propagation @integration', () => {
  const cleanup = new Cleanup();
  let server: NatsServer;
  let client: NatsConnection;
  let app: BrigadeApp;
  const contexts: MessageContext[] = [];
  const abortedAfter: number[] = [];
  let sentAt = 0;
  const gates = new Map<number, () => void>();
  const logs = captureLogs();

  @Service({ name: 'relay' })
  class Relay {
    constructor(private readonly bus: Bus) {}

    @Subscribe('relay.in')
    async forward(body: unknown, ctx: MessageContext): Promise<void> {
      contexts.push(ctx);
      ctx.logger.info('forwarding');
      await this.bus.publish('relay.out', body);
      await this.bus.request('relay.downstream', body);
    }

    /** Not async: publishes from a timer, a `.then` and a microtask, after it returned. */
    @Subscribe('relay.later')
    later(body: { n: number }): void {
      setTimeout(() => void this.bus.publish('relay.out', { ...body, via: 'timer' }), 5);
      void Promise.resolve().then(() => this.bus.publish('relay.out', { ...body, via: 'then' }));
      queueMicrotask(() => void this.bus.publish('relay.out', { ...body, via: 'microtask' }));
    }

    /** Waits for its turn, so that messages finish in another order than they came. */
    @Subscribe('relay.gated', { concurrency: 8 })
    async gated(body: { n: number }): Promise<void> {
      await new Promise<void>((resolve) => gates.set(body.n, resolve));
      await this.bus.publish('relay.out', body);
    }

    @Endpoint('relay.ask')
    ask(_: unknown, ctx: MessageContext): unknown {
      contexts.push(ctx);
      return {
        replyExpected: ctx.replyExpected,
        subject: ctx.subject,
        table: ctx.headers.get('X-TABLE') ?? null,
      };
    }

    @Endpoint('relay.wait')
    async wait(_: unknown, ctx: MessageContext): Promise<string> {
      contexts.push(ctx);
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
      abortedAfter.push(performance.now() - sentAt);
      await new Promise((resolve) => setTimeout(resolve, 300)); // outlive the requester
      return 'aborted';
    }
  }

  beforeEach(async () => {
    contexts.length = 0;
    abortedAfter.length = 0;
    logs.lines.length = 0;
    server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
    app = cleanup.add(
      await startApp(server, {
        services: [Relay],
        logger: { instance: logs.logger },
        shutdownGraceMs: 200,
      }),
      (a) => a.stop(),
    );
  });
  afterEach(() => cleanup.run());

  function collect(subject: string, respond = false): Msg[] {
    const seen: Msg[] = [];
    client.subscribe(subject, {
      callback: (_err, msg) => {
        seen.push(msg);
        if (respond) msg.respond(json.encode('ok'));
      },
    });
    return seen;
  }

  it('exposes subject, headers and whether a reply is expected', async () => {
    const h = headers();
    h.set('x-table', '12');
    const reply = await client.request('relay.ask', json.encode({}), {
      headers: h,
      timeout: 5_000,
    });
    expect(json.decode(reply.data)).to.deep.equal({
      replyExpected: true,
      subject: 'relay.ask',
      table: '12',
    });
    client.publish('relay.ask', json.encode({}));
    await waitFor(() => contexts.length === 2);
    expect(contexts[1]?.replyExpected).to.equal(false);
  });

  it('carries traceparent, tracestate and the correlation id onto every message a handler sends (untraced: as they came)', async () => {
    const out = collect('relay.out');
    const downstream = collect('relay.downstream', true);
    await client.flush();
    const h = headers();
    h.set('TraceParent', TRACEPARENT);
    h.set('tracestate', 'vendor=abc');
    h.set('Correlation-Id', 'order-77');
    client.publish('relay.in', json.encode({ n: 1 }), { headers: h });
    await waitFor(() => out.length === 1 && downstream.length === 1);
    for (const msg of [out[0], downstream[0]]) {
      const traceparent = msg?.headers?.get('traceparent') ?? '';
      const [version, traceId, parentId, flags] = traceparent.split('-');
      expect(version).to.equal('00');
      expect(traceId, 'same trace').to.equal(TRACE_ID);
      // No SDK, no span of the handler's: the sender's span, which reported, stays the parent.
      expect(parentId, 'the span that reported').to.equal('00f067aa0ba902b7');
      expect(flags).to.equal('01');
      expect(msg?.headers?.get('tracestate')).to.equal('vendor=abc');
      expect(msg?.headers?.get('correlation-id')).to.equal('order-77');
    }
    expect(out[0]?.headers?.get('traceparent')).to.equal(
      downstream[0]?.headers?.get('traceparent'),
    );
    expect(contexts[0]?.correlationId).to.equal('order-77');
  });

  it('makes up a correlation id when the message has none, and propagates it', async () => {
    const out = collect('relay.out');
    collect('relay.downstream', true);
    await client.flush();
    client.publish('relay.in', json.encode({ n: 2 }));
    await waitFor(() => out.length === 1);
    const id = contexts[0]?.correlationId;
    expect(id).to.match(/^[0-9a-f]{24}$/);
    expect(out[0]?.headers?.get('correlation-id')).to.equal(id);
    expect(out[0]?.headers?.get('traceparent')).to.equal('', 'no trace is invented');
  });

  it('carries the correlation id onto what a handler sends from timers, `.then` and microtasks after it returned', async () => {
    const out = collect('relay.out');
    await client.flush();
    for (const n of [1, 2]) {
      const h = headers();
      h.set('correlation-id', `later-${n}`);
      client.publish('relay.later', json.encode({ n }), { headers: h });
    }
    await waitFor(() => out.length === 6);
    const sent = out.map((m) => {
      const body = json.decode(m.data) as { n: number; via: string };
      return `${body.via} ${body.n} ${m.headers?.get('correlation-id') ?? 'none'}`;
    });
    expect(sent.sort()).to.deep.equal([
      'microtask 1 later-1',
      'microtask 2 later-2',
      'then 1 later-1',
      'then 2 later-2',
      'timer 1 later-1',
      'timer 2 later-2',
    ]);
  });

  it('keeps each message its own context when handlers finish in another order than they began', async () => {
    const out = collect('relay.out');
    await client.flush();
    for (const n of [1, 2, 3, 4]) {
      const h = headers();
      h.set('correlation-id', `gated-${n}`);
      client.publish('relay.gated', json.encode({ n }), { headers: h });
    }
    await waitFor(() => gates.size === 4);
    for (const n of [3, 1, 4, 2]) gates.get(n)?.();
    await waitFor(() => out.length === 4);
    for (const msg of out) {
      const { n } = json.decode(msg.data) as { n: number };
      expect(msg.headers?.get('correlation-id')).to.equal(`gated-${n}`);
    }
    gates.clear();
  });

  it('leaves no context behind: what the app sends outside a handler, after one ran, carries none', async () => {
    const out = collect('relay.out');
    collect('relay.downstream', true);
    await client.flush();
    const h = headers();
    h.set('correlation-id', 'order-99');
    h.set('traceparent', TRACEPARENT);
    client.publish('relay.in', json.encode({}), { headers: h });
    await waitFor(() => out.length === 1);
    // From a timer, a promise and the test's own code, none of them started by a handler.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await app.bus.publish('relay.out', { outside: 'timer' });
    await Promise.resolve().then(() => app.bus.publish('relay.out', { outside: 'then' }));
    await waitFor(() => out.length === 3);
    expect(out[0]?.headers?.get('correlation-id')).to.equal('order-99');
    for (const msg of out.slice(1)) {
      expect(msg.headers, JSON.stringify(json.decode(msg.data))).to.equal(undefined);
    }
  });

  it("binds the handler's logger to the correlation id", async () => {
    collect('relay.downstream', true);
    await client.flush();
    const h = headers();
    h.set('correlation-id', 'order-88');
    client.publish('relay.in', json.encode({}), { headers: h });
    await waitFor(() => logs.lines.some((l) => l['msg'] === 'forwarding'));
    const line = logs.lines.find((l) => l['msg'] === 'forwarding');
    expect(line).to.include({
      correlationId: 'order-88',
      service: 'relay',
      handler: 'forward',
      subject: 'relay.in',
    });
  });

  it("aborts the signal when the caller's deadline passes", async () => {
    sentAt = performance.now();
    const failure = await app.bus
      .request('relay.wait', {}, { timeout: 150 })
      .catch((e: unknown) => e);
    expect((failure as Error).name).to.equal('RequestTimeoutError');
    await waitFor(() => abortedAfter.length === 1, {
      timeout: 2_000,
      message: 'signal aborted at the deadline',
    });
    expect(abortedAfter[0]).to.be.within(140, 1_000);
  });

  it('does not abort the signal of a request without a deadline while the app runs', async () => {
    client.publish('relay.wait', json.encode({}), { reply: 'nobody.reads.this' });
    await waitFor(() => contexts.length === 1);
    expect(contexts[0]?.signal.aborted).to.equal(false);
  });
});
