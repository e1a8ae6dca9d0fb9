import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cleanup, NatsServer, waitFor } from '@brigade/testing';
import { Restaurant } from './support/restaurant';

/** One span as an OTLP/HTTP exporter sends it (JSON), with the service that sent it. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string }[];
  events: string[];
}

/** OTLP span kinds. */
const Kind = { Server: 2, Client: 3, Producer: 4, Consumer: 5 } as const;

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: OtlpValue }[];
  links?: { traceId: string; spanId: string }[];
  events?: { name: string }[];
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: OtlpValue }[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

function valueOf(value: OtlpValue): unknown {
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.boolValue ?? value.doubleValue;
}

function attributesOf(list: { key: string; value: OtlpValue }[] = []): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));
}

/** An OTLP/HTTP trace receiver: what a collector does with `POST /v1/traces`, kept in memory. */
class TraceReceiver {
  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
    readonly spans: readonly ReceivedSpan[],
    /** Requests it could not take, which the spec expects none of. */
    readonly refused: readonly string[],
  ) {}

  static async start(): Promise<TraceReceiver> {
    const spans: ReceivedSpan[] = [];
    const refused: string[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const type = req.headers['content-type'] ?? '';
        if (
          req.url === '/v1/traces' &&
          req.method === 'POST' &&
          type.startsWith('application/json')
        ) {
          spans.push(...spansOf(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else {
          refused.push(`${req.method ?? ''} ${req.url ?? ''} (${type})`);
          res.writeHead(404).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new TraceReceiver(server, `http://127.0.0.1:${port}`, spans, refused);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The spans of one export, each with the service that sent it. */
function spansOf(body: OtlpExport): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resource of body.resourceSpans ?? []) {
    const service = String(attributesOf(resource.resource?.attributes)['service.name']);
    for (const scope of resource.scopeSpans ?? [])
      for (const span of scope.spans ?? [])
        spans.push({
          service,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId || undefined,
          name: span.name,
          kind: span.kind,
          attributes: attributesOf(span.attributes),
          links: (span.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
          events: (span.events ?? []).map((e) => e.name),
        });
  }
  return spans;
}

describe('the restaurant traced with the OpenTelemetry SDK over OTLP/HTTP @integration', function () {
  this.timeout(120_000);
  const cleanup = new Cleanup();
  let restaurant: Restaurant;
  let receiver: TraceReceiver;

  before(async () => {
    receiver = cleanup.add(await TraceReceiver.start(), (r) => r.close());
    const server = cleanup.add(await NatsServer.start({ jetstream: true }), (s) => s.stop());
    restaurant = await Restaurant.open(cleanup, server.url, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    });
  });
  after(() => cleanup.run());

  it("shows one trace from reception's POST /orders through order and kitchen back to reception's served", async () => {
    const res = await fetch(`${restaurant.base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'table-7' },
      body: JSON.stringify({ customer: 'Minji', items: [{ dish: 'bibimbap', quantity: 1 }] }),
    });
    const placed = { status: res.status, body: (await res.json()) as Record<string, unknown> };
    expect(placed.status).to.equal(202);
    const id = placed.body['id'] as string;
    await waitFor(async () => (await restaurant.order(id)).status === 'served', {
      timeout: 30_000,
    });

    const root = await waitFor(
      () => receiver.spans.find((s) => s.name === 'POST /orders' && s.service === 'reception'),
      { timeout: 10_000, message: 'the POST /orders span arrives' },
    );
    const inTrace = (): ReceivedSpan[] => receiver.spans.filter((s) => s.traceId === root.traceId);
    const find = (service: string, name: string): ReceivedSpan | undefined =>
      inTrace().find((s) => s.service === service && s.name === name);
    // Complete once reception's served span is in, and every span's parent (a durable handler's
    // span ends, and is exported, only after what it published).
    const complete = (): boolean => {
      const ids = new Set(inTrace().map((s) => s.spanId));
      return (
        find('reception', 'publish orders.served') !== undefined &&
        inTrace().every((s) => s === root || ids.has(s.parentSpanId ?? ''))
      );
    };
    await waitFor(complete, {
      timeout: 10_000,
      message: () =>
        `the trace is complete; it has ${inTrace()
          .map((s) => `${s.service}: ${s.name}`)
          .join(', ')}`,
    });
    const get = (service: string, name: string): ReceivedSpan => {
      const span = find(service, name);
      expect(span, `${service}: ${name} in the trace`).to.not.equal(undefined);
      return span as ReceivedSpan;
    };
    expect(root.parentSpanId, 'the root').to.equal(undefined);
    expect(root.kind).to.equal(Kind.Server);

    // Reception asks the order service to create the order: CLIENT, then SERVER beneath it.
    const ask = get('reception', 'request order.create');
    const create = get('order', 'process order.create');
    expect(ask).to.deep.include({ kind: Kind.Client, parentSpanId: root.spanId });
    expect(create).to.deep.include({ kind: Kind.Server, parentSpanId: ask.spanId });
    expect(create.attributes).to.include({
      'messaging.system': 'nats',
      'messaging.destination.name': 'order.create',
      'messaging.destination.template': 'order.create',
      'messaging.consumer.group.name': 'q',
      'messaging.operation.name': 'process',
      'messaging.operation.type': 'process',
    });
    expect(create.attributes['messaging.message.body.size']).to.be.a('number').greaterThan(0);

    // Reception publishes `paid` (durable) in the same request; a kitchen cooks it.
    const paid = get('reception', 'publish orders.paid');
    expect(paid).to.deep.include({ kind: Kind.Producer, parentSpanId: root.spanId });
    expect(paid.attributes).to.include({
      'messaging.operation.name': 'publish',
      'messaging.operation.type': 'send',
      'messaging.nats.stream.name': 'ORDERS',
    });
    const cook = inTrace().find(
      (s) => s.service === 'kitchen' && s.name === 'process orders.paid',
    ) as ReceivedSpan;
    expect(cook, 'a kitchen processed the paid order').to.not.equal(undefined);
    expect(cook).to.deep.include({ kind: Kind.Consumer, parentSpanId: paid.spanId });
    expect(cook.links, 'linked to the message it processes').to.deep.equal([
      { traceId: root.traceId, spanId: paid.spanId },
    ]);
    expect(cook.attributes).to.include({
      'messaging.destination.name': 'orders.paid',
      'messaging.nats.stream.name': 'ORDERS',
      'messaging.nats.message.delivery_count': 1,
      'messaging.nats.outcome': 'ack',
    });
    expect(cook.attributes['messaging.nats.message.sequence']).to.equal(
      paid.attributes['messaging.nats.message.sequence'],
    );
    expect(cook.events).to.include('ack');

    // The kitchen says it is cooked; reception serves it.
    const cooked = get('kitchen', 'publish orders.cooked');
    expect(cooked).to.deep.include({ kind: Kind.Producer, parentSpanId: cook.spanId });
    const serve = get('reception', 'process orders.cooked');
    expect(serve).to.deep.include({ kind: Kind.Consumer, parentSpanId: cooked.spanId });
    expect(serve.links).to.deep.equal([{ traceId: root.traceId, spanId: cooked.spanId }]);
    const served = get('reception', 'publish orders.served');
    expect(served).to.deep.include({ kind: Kind.Producer, parentSpanId: serve.spanId });
    // One conversation: reception's request id travels with every message of the order.
    for (const span of [ask, create, paid, cook, cooked, serve, served])
      expect(span.attributes['messaging.message.conversation_id'], span.name).to.equal('table-7');
    expect(receiver.refused, 'only traces, as OTLP/HTTP JSON').to.deep.equal([]);
    const services = new Set(inTrace().map((s) => s.service));
    expect([...services].sort()).to.include.members(['kitchen', 'order', 'reception']);
  });
});
