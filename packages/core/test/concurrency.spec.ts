import 'reflect-metadata';
import { expect } from 'chai';
import { JSONCodec } from 'nats';
import { Endpoint, Service, Subscribe } from '@brigade/core';
import { startApp, waitFor } from '@brigade/testing';
import { serverPerTest } from './support/server-per-test';
import { captureLogs } from './support/log-capture';

const json = JSONCodec();

/** A latch tests open by hand: handlers wait on it, so "in flight" is a state, not a race. */
class Latch {
  private release!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));
  open(): void {
    this.release();
  }
}

describe('concurrency and backpressure @integration', () => {
  const bed = serverPerTest();
  const { cleanup } = bed;

  it('runs at most `concurrency` messages of a handler at once; the rest wait their turn', async () => {
    let running = 0;
    let peak = 0;
    @Service({ name: 'narrow' })
    class Narrow {
      @Endpoint('narrow.work', { concurrency: 5 })
      async work(n: number): Promise<number> {
        peak = Math.max(peak, ++running);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running--;
        return n * 2;
      }
    }
    cleanup.add(await startApp(bed.server, { services: [Narrow] }), (a) => a.stop());
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, n) =>
        bed.client.request('narrow.work', json.encode(n), { timeout: 5_000 }),
      ),
    );
    expect(replies.map((r) => json.decode(r.data))).to.deep.equal(
      Array.from({ length: 40 }, (_, n) => n * 2),
    );
    expect(peak).to.equal(5);
  });

  it('defaults to 64 at once per handler', async () => {
    const latch = new Latch();
    let running = 0;
    @Service({ name: 'wide' })
    class Wide {
      @Subscribe('wide.work')
      async work(): Promise<void> {
        running++;
        await latch.opened;
      }
    }
    const app = cleanup.add(await startApp(bed.server, { services: [Wide] }), (a) => a.stop());
    for (let i = 0; i < 100; i++) bed.client.publish('wide.work', json.encode(i));
    await waitFor(() => running === 64);
    await bed.client.flush();
    await waitFor(() => app.stats()[0]?.stats.numRequests === 0 && running === 64);
    latch.open();
    await waitFor(() => running === 100, { message: 'the waiting 36 ran once slots freed' });
  });

  it('answers 503 past maxPending for endpoints, and drops and counts events past it', async () => {
    const latch = new Latch();
    const logs = captureLogs();
    let started = 0;
    @Service({ name: 'tight', concurrency: 1, maxPending: 2 })
    class Tight {
      @Endpoint('tight.ask')
      async ask(n: number): Promise<number> {
        started++;
        await latch.opened;
        return n;
      }

      @Subscribe('tight.event')
      async event(): Promise<void> {
        started++;
        await latch.opened;
      }
    }
    const app = cleanup.add(
      await startApp(bed.server, { services: [Tight], logger: { instance: logs.logger } }),
      (a) => a.stop(),
    );
    const requests = Array.from({ length: 10 }, (_, n) =>
      bed.client.request('tight.ask', json.encode(n), { timeout: 5_000 }),
    );
    for (let i = 0; i < 10; i++) bed.client.publish('tight.event', json.encode(i));
    await waitFor(() => app.stats().every((s) => s.stats.numErrors === 7), {
      message: '7 turned away per handler',
    });
    latch.open();
    const replies = await Promise.all(requests);
    const codes = replies.map((r) => r.headers?.get('Nats-Service-Error-Code') ?? 'ok');
    expect(codes.filter((c) => c === 'ok')).to.have.length(3);
    expect(codes.filter((c) => c === '503')).to.have.length(7);
    expect(replies.map((r) => r.headers?.get('Nats-Service-Error')).filter(Boolean)[0]).to.include(
      'overloaded',
    );
    await waitFor(() => started === 6);
    const event = app.stats().find((s) => s.handler.name === 'event')?.stats;
    expect(event).to.include({ dropped: 7, numErrors: 7 });
    const stats = (await bed.client.request('$SRV.STATS.tight')).json<{
      endpoints: { name: string; data?: unknown }[];
    }>();
    expect(stats.endpoints.find((e) => e.name === 'event')?.data).to.deep.equal({ dropped: 7 });
    expect(stats.endpoints.find((e) => e.name === 'ask')).to.not.have.property('data');
    // One line for the first drop, one sum for the rest (at the latest when the app stops).
    expect(logs.lines.filter((l) => String(l['msg']).includes('dropped an event'))).to.have.length(
      1,
    );
    await app.stop();
    const sums = logs.lines.filter((l) =>
      String(l['msg']).startsWith("tight#event on 'tight.event': 6 more like the above"),
    );
    expect(sums).to.have.length(1);
    expect(sums[0]).to.deep.include({ count: 6 });
    expect(Object.values(sums[0]?.['kinds'] as object)).to.deep.equal([6]);
  });
});
