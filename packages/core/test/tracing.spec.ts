import { expect } from 'chai';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import {
  Bus,
  Endpoint,
  NotFoundError,
  PermanentError,
  Service,
  Subscribe,
  type MessageContext,
} from '@brigade/core';
import { startApp, waitFor } from '@brigade/testing';
import { brigadeClient, serverPerTest } from './support/server-per-test';

@Service({ name: 'traced' })
class Traced {
  static attempts = 0;

  constructor(private readonly bus: Bus) {}

  @Subscribe('traced.placed.*')
  async placed(order: { id: string }): Promise<void> {
    // The handler's own span, and what it sends, are children of the message's span.
    const own = trace.getTracer('app').startSpan('inside the handler');
    own.end();
    await new Promise((resolve) => setTimeout(resolve, 1));
    await this.bus.publish('traced.cooked', order);
  }

  @Endpoint('traced.price')
  price(item: { dish: string }): number {
    if (item.dish === 'unicorn') throw new NotFoundError('no such dish');
    if (item.dish === 'bomb') throw new Error('the kitchen exploded');
    return 9;
  }

  @Subscribe('traced.durable.*', { durable: { stream: 'TRACED', backoff: [50], maxDeliver: 3 } })
  durable(order: { poison?: boolean }, ctx: MessageContext): void {
    if (order.poison) throw new PermanentError('cannot cook this');
    if (ctx.deliveryCount === 1) throw new Error('the stove is cold');
  }
}

const TRACED_STREAM = { name: 'TRACED', subjects: ['traced.durable.>'] };

describe('tracing with the OpenTelemetry SDK @integration', () => {
  const bed = serverPerTest({ jetstream: true });
  const exporter = new InMemorySpanExporter();
  let provider: NodeTracerProvider;

  before(() => {
    provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.register();
  });
  after(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  afterEach(() => exporter.reset());

  async function setUp(options: { tracing?: boolean } = {}) {
    const app = bed.cleanup.add(
      await startApp(bed.server, { services: [Traced], streams: [TRACED_STREAM], ...options }),
      (a) => a.stop(),
    );
    return { app, client: await brigadeClient(bed) };
  }

  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  const named = (name: string): ReadableSpan[] => spans().filter((s) => s.name === name);
  function one(name: string): ReadableSpan {
    const found = named(name);
    expect(
      found,
      `one span '${name}' in ${spans()
        .map((s) => s.name)
        .join(', ')}`,
    ).to.have.length(1);
    return found[0] as ReadableSpan;
  }
  const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

  it('makes one trace of a publish, its handler and what the handler sends, by the messaging conventions', async () => {
    const { client } = await setUp();
    const cooked = await bed.client.subscribe('traced.cooked', { max: 1 });
    const wire = (async () => {
      for await (const m of cooked) return m.headers?.get('traceparent');
      return undefined;
    })();
    const checkout = trace.getTracer('app').startSpan('checkout');
    await context.with(trace.setSpan(context.active(), checkout), () =>
      client.bus.publish(
        'traced.placed.7',
        { id: 'o-7' },
        { headers: { 'correlation-id': 'o-7' } },
      ),
    );
    checkout.end();
    await waitFor(() => named('publish traced.cooked').length === 1);

    const publish = one('publish traced.placed.7');
    const process = one('process traced.placed.*');
    const inner = one('inside the handler');
    const onward = one('publish traced.cooked');
    const traceId = checkout.spanContext().traceId;
    for (const span of [publish, process, inner, onward])
      expect(span.spanContext().traceId, span.name).to.equal(traceId);

    expect(publish.kind).to.equal(SpanKind.PRODUCER);
    expect(parentOf(publish)).to.equal(checkout.spanContext().spanId);
    expect(publish.attributes).to.include({
      'messaging.system': 'nats',
      'messaging.destination.name': 'traced.placed.7',
      'messaging.operation.name': 'publish',
      'messaging.operation.type': 'send',
      'messaging.message.conversation_id': 'o-7',
      'messaging.message.body.size': JSON.stringify({ id: 'o-7' }).length,
    });

    expect(process.kind).to.equal(SpanKind.CONSUMER);
    expect(parentOf(process), 'child of the publish').to.equal(publish.spanContext().spanId);
    expect(
      process.links.map((l) => l.context.spanId),
      'and linked to it',
    ).to.deep.equal([publish.spanContext().spanId]);
    expect(process.attributes).to.include({
      'messaging.system': 'nats',
      'messaging.destination.name': 'traced.placed.7',
      'messaging.destination.template': 'traced.placed.*',
      'messaging.consumer.group.name': 'traced',
      'messaging.operation.name': 'process',
      'messaging.operation.type': 'process',
      'messaging.message.conversation_id': 'o-7',
      'messaging.message.body.size': JSON.stringify({ id: 'o-7' }).length,
    });
    expect(process.status.code).to.equal(SpanStatusCode.UNSET);
    expect(process.instrumentationScope.name).to.equal('@brigade/core');

    expect(parentOf(inner), "the handler's own span").to.equal(process.spanContext().spanId);
    expect(onward.kind).to.equal(SpanKind.PRODUCER);
    expect(parentOf(onward)).to.equal(process.spanContext().spanId);
    expect(onward.attributes['messaging.message.conversation_id']).to.equal('o-7');
    const [, wireTrace, wireParent] = ((await wire) ?? '').split('-');
    expect(wireTrace, 'the message carries the trace').to.equal(traceId);
    expect(wireParent, "and the producer span's id").to.equal(onward.spanContext().spanId);
  });

  it('makes a request a CLIENT span and its handling a SERVER span below it, failures with error.type', async () => {
    const { client } = await setUp();
    expect(await client.bus.request('traced.price', { dish: 'soup' })).to.equal(9);
    await client.bus.request('traced.price', { dish: 'unicorn' }).catch(() => undefined);
    await client.bus.request('traced.price', { dish: 'bomb' }).catch(() => undefined);
    await waitFor(() => named('process traced.price').length === 3);

    const requests = named('request traced.price');
    const servers = named('process traced.price');
    expect(requests).to.have.length(3);
    for (const [i, request] of requests.entries()) {
      const server = servers[i] as ReadableSpan;
      expect(request.kind).to.equal(SpanKind.CLIENT);
      expect(server.kind).to.equal(SpanKind.SERVER);
      expect(parentOf(server)).to.equal(request.spanContext().spanId);
      expect(server.links, 'a request is parented, not linked').to.have.length(0);
      expect(request.attributes).to.include({ 'messaging.operation.name': 'request' });
    }
    const [ok, missing, broken] = servers as [ReadableSpan, ReadableSpan, ReadableSpan];
    expect(ok.attributes['error.type']).to.equal(undefined);
    // A 404 is an answer, not a fault of the server's: error.type, no error status.
    expect(missing.attributes['error.type']).to.equal('404');
    expect(missing.status.code).to.equal(SpanStatusCode.UNSET);
    expect(broken.attributes['error.type']).to.equal('500');
    expect(broken.status).to.deep.include({ code: SpanStatusCode.ERROR });
    expect(broken.events.map((e) => e.name)).to.include('exception');
    expect((requests[1] as ReadableSpan).attributes['error.type']).to.equal('404');
    expect((requests[1] as ReadableSpan).status.code).to.equal(SpanStatusCode.ERROR);
  });

  it('records a durable message per delivery with its stream, sequence and count, and how it was settled', async () => {
    const { client } = await setUp();
    const ack = await client.bus.publish('traced.durable.1', {}, { durable: true });
    await client.bus.publish('traced.durable.2', { poison: true }, { durable: true });
    await waitFor(() => named('process traced.durable.*').length === 3, { timeout: 10_000 });

    const producer = one('publish traced.durable.1');
    expect(producer.attributes).to.include({
      'messaging.nats.stream.name': 'TRACED',
      'messaging.nats.message.sequence': ack.sequence,
    });
    const deliveries = named('process traced.durable.*').filter(
      (s) => s.attributes['messaging.destination.name'] === 'traced.durable.1',
    );
    expect(
      deliveries.map((s) => s.attributes['messaging.nats.message.delivery_count']),
    ).to.deep.equal([1, 2]);
    const [first, second] = deliveries as [ReadableSpan, ReadableSpan];
    for (const span of deliveries) {
      expect(span.kind).to.equal(SpanKind.CONSUMER);
      expect(parentOf(span)).to.equal(producer.spanContext().spanId);
      expect(span.attributes).to.include({
        'messaging.nats.stream.name': 'TRACED',
        'messaging.nats.consumer.name': 'traced_durable',
        'messaging.consumer.group.name': 'traced_durable',
        'messaging.nats.message.sequence': ack.sequence,
      });
    }
    expect(first.attributes).to.include({ 'messaging.nats.outcome': 'nak', 'error.type': '500' });
    expect(first.events.find((e) => e.name === 'nak')?.attributes).to.deep.equal({
      'messaging.nats.nak.delay_ms': 50,
    });
    expect(second.attributes['messaging.nats.outcome']).to.equal('ack');
    expect(second.events.map((e) => e.name)).to.include('ack');

    const poisoned = named('process traced.durable.*').find(
      (s) => s.attributes['messaging.destination.name'] === 'traced.durable.2',
    ) as ReadableSpan;
    expect(poisoned.attributes['messaging.nats.outcome']).to.equal('dead-letter');
    expect(poisoned.events.find((e) => e.name === 'dead-letter')?.attributes).to.deep.equal({
      'messaging.nats.dead_letter.reason': 'PermanentError: cannot cook this',
    });
  });

  it('makes no span with tracing: false, and passes the trace on as it came', async () => {
    const { client } = await setUp({ tracing: false });
    const cooked = await bed.client.subscribe('traced.cooked', { max: 1 });
    const wire = (async () => {
      for await (const m of cooked) return m.headers?.get('traceparent');
      return undefined;
    })();
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const untraced = await brigadeClient(bed, { tracing: false });
    await untraced.bus.publish(
      'traced.placed.8',
      { id: 'o-8' },
      { headers: { traceparent: incoming } },
    );
    await untraced.bus.flush();
    expect(await wire).to.equal(incoming);
    await client.bus.flush();
    expect(spans().filter((s) => s.instrumentationScope.name === '@brigade/core')).to.deep.equal(
      [],
    );
  });
});
