import { expect } from 'chai';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { Service, Subscribe, type BrigadeApp } from '@brigade/core';
import { Cleanup, NatsServer, startApp, waitFor } from '@brigade/testing';
import pino from 'pino';
import {
  type ContextEnvironment,
  HandlerContext,
  HandlerCounters,
  HandlerInvoker,
  handlerSteps,
} from '@brigade/core/internal';
import type { HandlerDefinition } from '@brigade/core';

const json = JSONCodec();

function definition(overrides: Partial<HandlerDefinition> = {}): HandlerDefinition {
  return {
    kind: 'event',
    name: 'count',
    method: 'count',
    subject: 'things.happened',
    queue: 'q',
    concurrency: 1,
    maxPending: 100,
    timeoutMs: 30_000,
    timeoutGraceMs: 5_000,
    payload: 'json',
    metadata: {},
    durable: undefined,
    middleware: [],
    ...overrides,
  };
}

const env: ContextEnvironment = {
  serviceName: 'counter',
  logger: pino({ level: 'silent' }),
  shutdownSignal: new AbortController().signal,
};

/** Runs `count` messages through an invoker in one turn of the event loop. */
function burst(invoker: HandlerInvoker, count: number): void {
  for (let i = 0; i < count; i++) {
    const message = { subject: 'things.happened', data: json.encode({ i }) };
    invoker.invoke(new HandlerContext(message, invoker.definition, env), (ctx, error) =>
      invoker.record(ctx, error),
    );
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('processing time', () => {
  it('times every message that arrives on its own, and one in eight of a burst', async () => {
    const invoker = new HandlerInvoker(
      definition(),
      { count: () => undefined },
      env,
      handlerSteps(),
    );
    burst(invoker, 1);
    await nextTurn();
    burst(invoker, 1);
    await nextTurn();
    expect(invoker.stats).to.include({ ran: 2, timed: 2 });
    burst(invoker, 20); // timed: the 1st, 9th and 17th
    expect(invoker.stats).to.include({ ran: 22, timed: 5 });
    await nextTurn();
    burst(invoker, 1);
    expect(invoker.stats).to.include({ ran: 23, timed: 6 });
  });

  it('times every durable message: their heartbeat reads the start time', () => {
    const durable = {
      stream: 'S',
      consumer: 'c',
      maxDeliver: 5,
      backoffMs: [1_000],
      ackWaitMs: 30_000,
      maxAckPending: 100,
      orderBy: undefined,
      breaker: undefined,
    };
    const invoker = new HandlerInvoker(
      definition({ durable }),
      { count: () => undefined },
      env,
      handlerSteps(),
    );
    burst(invoker, 20);
    expect(invoker.stats).to.include({ ran: 20, timed: 20 });
  });

  it('reports the exact total while every message was timed, else the mean of those that were', () => {
    const counters = new HandlerCounters();
    Object.assign(counters, { numRequests: 4, ran: 3, timed: 3, timedNs: 3_000 });
    expect(counters.snapshot().processingTimeNs).to.equal(3_000);
    Object.assign(counters, { numRequests: 17, ran: 16, timed: 2, timedNs: 3_001 });
    expect(counters.snapshot().processingTimeNs).to.equal(24_008);
    expect(new HandlerCounters().snapshot().processingTimeNs).to.equal(0);
  });
});

describe('processing time of a burst, through STATS @integration', () => {
  const cleanup = new Cleanup();
  let server: NatsServer;
  let client: NatsConnection;
  let handled = 0;
  /** How long each message really took, as the handler itself measured it (ms). */
  const took: number[] = [];

  @Service({ name: 'grinder' })
  class Grinder {
    @Subscribe('beans.arrived')
    grind(): void {
      const started = performance.now();
      while (performance.now() < started + 2); // 2 ms of synchronous work
      handled++;
      took.push(performance.now() - started);
    }
  }

  before(async () => {
    server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
    cleanup.add(await startApp(server, { services: [Grinder] }), (a: BrigadeApp) => a.stop());
  });
  after(() => cleanup.run());

  it('estimates the total from the timed messages, close to the time really spent', async () => {
    for (let i = 0; i < 40; i++) client.publish('beans.arrived', json.encode({ i }));
    await client.flush();
    await waitFor(() => handled === 40, { timeout: 5_000 });
    const reply = await client.request('$SRV.STATS.grinder', undefined, { timeout: 2_000 });
    const stats = json.decode(reply.data) as { endpoints: Record<string, number>[] };
    const grind = stats.endpoints[0] as Record<string, number>;
    expect(grind['num_requests']).to.equal(40);
    // The mean of the timed messages stands for all 40: the estimate lies between 40 times the
    // quickest and 40 times the slowest message as the handler measured them (a message the
    // machine paused in takes longer), plus the little Brigade spends around each.
    const quickest = Math.min(...took) * 1e6;
    const slowest = Math.max(...took) * 1e6;
    expect(quickest).to.be.at.least(2_000_000);
    expect(grind['processing_time']).to.be.within(40 * quickest, 40 * (slowest + 200_000));
    expect(Number.isInteger(grind['processing_time'])).to.equal(true);
  });
});
