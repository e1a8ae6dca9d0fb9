import { expect } from 'chai';
import {
  Endpoint,
  NotFoundError,
  PermanentError,
  Service,
  Subscribe,
  type BrigadeApp,
} from '@brigade/core';
import { startApp, waitFor } from '@brigade/testing';
import { brigadeClient, serverPerTest } from './support/server-per-test';
import { captureLogs } from './support/log-capture';

/** One sample of a scrape: its metric name, labels and value. */
interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Reads Prometheus's text format (what a scrape gets), comments aside. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g))
      labels[key as string] = value as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(app: BrigadeApp): Promise<{ type: string; samples: Sample[] }> {
  const res = await fetch(`http://127.0.0.1:${app.opsPort as number}/metrics`);
  expect(res.status).to.equal(200);
  return {
    type: res.headers.get('content-type') ?? '',
    samples: parseExposition(await res.text()),
  };
}

/** The value of the one sample of `name` whose labels include `labels`. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  expect(found, `one sample ${name} ${JSON.stringify(labels)}`).to.have.length(1);
  return (found[0] as Sample).value;
}

@Service({ name: 'metered' })
class Metered {
  static gate: Promise<void> = Promise.resolve();

  @Endpoint('metered.price')
  price(item: { dish: string }): number {
    if (item.dish === 'unicorn') throw new NotFoundError('no such dish');
    return 9;
  }

  @Subscribe('metered.placed', { concurrency: 1, maxPending: 2 })
  async placed(): Promise<void> {
    await Metered.gate;
  }

  @Subscribe('metered.durable', { durable: { stream: 'METERED', backoff: [50], maxDeliver: 2 } })
  async durable(order: { poison?: boolean }): Promise<void> {
    if (order.poison) throw new PermanentError('cannot cook this');
    await Metered.gate;
  }
}

@Service({ name: 'quiet' })
class Quiet {
  @Endpoint('quiet.ping')
  ping(): string {
    return 'pong';
  }
}

const METERED_STREAM = { name: 'METERED', subjects: ['metered.durable'] };

describe('Prometheus metrics on the ops port @integration', () => {
  const bed = serverPerTest({ jetstream: true });

  async function setUp() {
    const app = bed.cleanup.add(
      await startApp(bed.server, {
        services: [Metered],
        streams: [METERED_STREAM],
        ops: { port: 0, host: '127.0.0.1' },
      }),
      (a) => a.stop(),
    );
    return { app, client: await brigadeClient(bed) };
  }

  it('times every message a handler processes, by outcome, and counts what it was sent', async () => {
    const { app, client } = await setUp();
    for (let i = 0; i < 5; i++) await client.bus.request('metered.price', { dish: 'soup' });
    await client.bus.request('metered.price', { dish: 'unicorn' }).catch(() => undefined);
    await app.bus.publish('metered.placed', {});
    await app.bus.request('metered.price', { dish: 'soup' });

    const { type, samples } = await scrape(app);
    expect(type).to.match(/^text\/plain; version=0\.0\.4/);
    const handler = {
      messaging_system: 'nats',
      messaging_destination_name: 'metered.price',
      messaging_operation_name: 'process',
      messaging_consumer_group_name: 'q',
      service: 'metered',
      handler: 'price',
    };
    const ok = { ...handler, error_type: '' };
    const missing = { ...handler, error_type: '404' };
    expect(valueOf(samples, 'messaging_process_duration_seconds_count', ok)).to.equal(6);
    expect(valueOf(samples, 'messaging_process_duration_seconds_count', missing)).to.equal(1);
    expect(
      valueOf(samples, 'messaging_process_duration_seconds_bucket', { ...ok, le: '+Inf' }),
    ).to.equal(6);
    const sum = valueOf(samples, 'messaging_process_duration_seconds_sum', ok);
    expect(sum).to.be.greaterThan(0).and.lessThan(1);
    const buckets = samples.filter(
      (s) =>
        s.name === 'messaging_process_duration_seconds_bucket' &&
        s.labels['error_type'] === '' &&
        s.labels['handler'] === 'price',
    );
    expect(
      buckets.map((b) => b.value),
      'cumulative',
    ).to.deep.equal([...buckets.map((b) => b.value)].sort((a, b) => a - b));
    expect(valueOf(samples, 'messaging_client_consumed_messages_total', handler)).to.equal(7);

    const sent = { messaging_destination_name: 'metered.price', service: 'metered' };
    expect(
      valueOf(samples, 'messaging_client_sent_messages_total', {
        ...sent,
        messaging_operation_name: 'request',
        error_type: '',
      }),
    ).to.equal(1);
    expect(
      valueOf(samples, 'messaging_client_sent_messages_total', {
        messaging_destination_name: 'metered.placed',
        messaging_operation_name: 'publish',
      }),
    ).to.equal(1);
    expect(
      valueOf(samples, 'messaging_client_operation_duration_seconds_count', {
        ...sent,
        messaging_operation_name: 'request',
      }),
    ).to.equal(1);
    expect(valueOf(samples, 'brigade_nats_connection_state', { state: 'connected' })).to.equal(1);
    expect(valueOf(samples, 'brigade_nats_connection_state', { state: 'reconnecting' })).to.equal(
      0,
    );
    expect(valueOf(samples, 'brigade_nats_reconnects_total')).to.equal(0);
    expect(
      samples.some((s) => s.name === 'process_resident_memory_bytes'),
      'process metrics',
    ).to.equal(true);
  });

  it('shows handlers in flight and waiting, events dropped, dead letters and consumer lag', async () => {
    const { app, client } = await setUp();
    let open!: () => void;
    Metered.gate = new Promise((resolve) => (open = resolve));
    try {
      for (let i = 0; i < 5; i++) await client.bus.publish('metered.placed', {});
      for (let i = 0; i < 3; i++)
        await client.bus.publish('metered.durable', {}, { durable: true });
      await client.bus.publish('metered.durable', { poison: true }, { durable: true });
      const placed = { service: 'metered', handler: 'placed' };
      const durable = { service: 'metered', handler: 'durable' };
      let samples: Sample[] = [];
      await waitFor(async () => {
        samples = (await scrape(app)).samples;
        return valueOf(samples, 'brigade_dead_lettered_total', durable) === 1;
      });
      expect(valueOf(samples, 'brigade_handler_in_flight', placed)).to.equal(1);
      expect(valueOf(samples, 'brigade_handler_waiting', placed)).to.equal(2);
      expect(valueOf(samples, 'brigade_events_dropped_total', placed)).to.equal(2);
      expect(valueOf(samples, 'brigade_handler_in_flight', durable)).to.equal(3);
      const consumer = { stream: 'METERED', consumer: 'metered_durable' };
      expect(valueOf(samples, 'brigade_consumer_ack_pending', consumer)).to.equal(3);
      expect(valueOf(samples, 'brigade_consumer_pending', consumer)).to.equal(0);
    } finally {
      open();
      Metered.gate = Promise.resolve();
    }
    await waitFor(async () => {
      const { samples } = await scrape(app);
      return (
        valueOf(samples, 'brigade_consumer_ack_pending', { consumer: 'metered_durable' }) === 0
      );
    });
  });

  it('labels at most 1,000 subjects sent to, counting later ones as _other, said once', async () => {
    const { logger, lines } = captureLogs();
    const app = bed.cleanup.add(
      await startApp(bed.server, {
        services: [Quiet],
        ops: { port: 0, host: '127.0.0.1' },
        logger: { instance: logger },
      }),
      (a) => a.stop(),
    );
    for (let i = 0; i < 1_005; i++) await app.bus.publish(`metered.order.${i}.paid`, {});
    const { samples } = await scrape(app);
    const sent = samples.filter(
      (s) =>
        s.name === 'messaging_client_sent_messages_total' &&
        s.labels['messaging_operation_name'] === 'publish',
    );
    expect(sent).to.have.length(1_001);
    expect(
      valueOf(samples, 'messaging_client_sent_messages_total', {
        messaging_destination_name: '_other',
      }),
    ).to.equal(5);
    const warnings = lines.filter((l) =>
      String(l['msg']).startsWith('metrics: more than 1000 subjects'),
    );
    expect(warnings).to.have.length(1);
  });

  it('counts reconnects, and serves no /metrics with metrics: false', async () => {
    const { app } = await setUp();
    await bed.server.restart();
    await waitFor(
      async () => valueOf((await scrape(app)).samples, 'brigade_nats_reconnects_total') === 1,
      {
        timeout: 15_000,
      },
    );
    const quiet = bed.cleanup.add(
      await startApp(bed.server, {
        services: [Quiet],
        ops: { port: 0, host: '127.0.0.1' },
        metrics: false,
      }),
      (a) => a.stop(),
    );
    expect((await fetch(`http://127.0.0.1:${quiet.opsPort as number}/metrics`)).status).to.equal(
      404,
    );
    expect(await quiet.metrics()).to.equal(undefined);
  });
});
