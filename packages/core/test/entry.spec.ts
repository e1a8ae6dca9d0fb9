import { expect } from 'chai';
import { connect, JSONCodec } from 'nats';
import { Cleanup, NatsServer, waitFor } from '@brigade/testing';
import { startChildService } from './support/child-service';

const json = JSONCodec();

describe('Brigade.run entry helper @integration', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('drains on SIGTERM: the in-flight request is answered and the process exits 0', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const proc = startChildService('entry.fixture.ts', server.url);
    cleanup.add(proc.child, (c) => c.kill('SIGKILL'));
    await waitFor(() => proc.output().includes("service 'fixture' started"), { timeout: 15_000 });
    const client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
    const reply = client.request('fixture.slow', json.encode(400), { timeout: 5_000 });
    // NATS keeps one connection's messages in order: once this second reply is back, the first
    // request has reached the handler and is in flight.
    await waitFor(
      async () => (await client.request('fixture.slow', json.encode(0))).string() === '"finished"',
    );
    proc.child.kill('SIGTERM');
    expect((await reply).string()).to.equal('"finished"');
    expect(await proc.exited).to.equal(0);
    expect(proc.output()).to.include('SIGTERM received').and.include('stopped');
  });

  it('exits 1 with the reason when the start fails', async () => {
    const server = await NatsServer.start();
    const url = server.url;
    await server.stop();
    const proc = startChildService('entry.fixture.ts', url);
    cleanup.add(proc.child, (c) => c.kill('SIGKILL'));
    expect(await proc.exited).to.equal(1);
    expect(proc.output()).to.include('failed to start').and.include('connection refused');
  });

  it('names BRIGADE_LOG_LEVEL and the levels there are when it holds no level', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const proc = startChildService('default-logger.fixture.ts', server.url, {
      BRIGADE_LOG_LEVEL: 'verbose',
    });
    cleanup.add(proc.child, (c) => c.kill('SIGKILL'));
    expect(await proc.exited).to.equal(1);
    expect(proc.output()).to.include(
      "failed to start: BRIGADE_LOG_LEVEL is 'verbose': use one of trace, debug, info, warn, error, fatal, silent",
    );
    expect(proc.output()).to.not.match(/\n\s+at /);
  });
});
