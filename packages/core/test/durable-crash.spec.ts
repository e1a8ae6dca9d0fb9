import { expect } from 'chai';
import { connect, JSONCodec } from 'nats';
import { Cleanup, NatsServer, waitFor } from '@brigade/testing';
import { startChildService } from './support/child-service';
import { ids, publishEvents } from './support/jetstream';

const json = JSONCodec();

describe('durable consumer killed mid-stream @integration', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('handles every event at least once across a SIGKILL and a restart', async () => {
    const server = cleanup.add(await NatsServer.start({ jetstream: true }), (s) => s.stop());
    const client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
    const handled = new Map<string, number>();
    client.subscribe('test.handled', {
      callback: (_err, msg) => {
        const { id } = json.decode(msg.data) as { id: string };
        handled.set(id, (handled.get(id) ?? 0) + 1);
      },
    });

    const first = startChildService('durable-consumer.fixture.ts', server.url);
    cleanup.add(first.child, (c) => c.kill('SIGKILL'));
    await waitFor(() => first.output().includes("service 'killable' started"), { timeout: 15_000 });
    await publishEvents(client, 'orders.placed', ids('o', 600));
    await waitFor(() => handled.size >= 150, { timeout: 15_000 });
    first.child.kill('SIGKILL');
    expect(await first.exited).to.equal(null); // killed by the signal, no exit code
    const handledBeforeKill = handled.size;
    expect(handledBeforeKill).to.be.below(600, 'killed mid-stream');

    const second = startChildService('durable-consumer.fixture.ts', server.url);
    cleanup.add(second.child, (c) => c.kill('SIGKILL'));
    await waitFor(() => handled.size === 600, {
      timeout: 30_000,
      message: 'every event handled after the restart',
    });
    expect(ids('o', 600).every((id) => (handled.get(id) ?? 0) >= 1)).to.equal(true);
  });
});
