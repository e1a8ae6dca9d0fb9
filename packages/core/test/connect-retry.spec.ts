import { expect } from 'chai';
import {
  Brigade,
  ConnectionError,
  Endpoint,
  Service,
  type ConnectionSettings,
} from '@brigade/core';
import { Cleanup, NatsServer, waitFor } from '@brigade/testing';
import { startChildService } from './support/child-service';
import { freePort } from './support/free-port';

/** Starts the app against `nats`, expecting it to fail; resolves with the failure. */
function failedStart(nats: ConnectionSettings): Promise<unknown> {
  return Brigade.start({ services: [Patient], nats, logger: { level: 'silent' } }).then(
    async (app) => {
      await app.stop();
      throw new Error('the app started');
    },
    (e: unknown) => e,
  );
}

@Service({ name: 'patient' })
class Patient {
  @Endpoint('patient.ping')
  ping(): string {
    return 'pong';
  }
}

describe('the first connection, before the server is up @integration', function () {
  this.timeout(30_000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('under Brigade.run, keeps trying while nothing listens, logs each try, and starts once the server is up', async () => {
    const natsPort = await freePort();
    const opsPort = await freePort();
    const running = startChildService('default-logger.fixture.ts', `nats://127.0.0.1:${natsPort}`, {
      BRIGADE_OPS_PORT: String(opsPort),
      BRIGADE_LOG_LEVEL: 'info',
    });
    cleanup.add(running.child, (c) => c.kill('SIGKILL'));
    await waitFor(() => running.output().includes('not reachable yet'), {
      timeout: 15_000,
      message: () => `a retry is logged; the process said: ${running.output()}`,
    });
    expect(running.child.exitCode, 'still waiting, not exited').to.equal(null);
    cleanup.add(await NatsServer.start({ port: natsPort }), (s) => s.stop());
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${opsPort}/readyz`).catch(() => undefined))?.ok,
      { timeout: 15_000, message: () => `ready once the server is up: ${running.output()}` },
    );
    expect(running.output()).to.include('connection refused');
    running.child.kill('SIGTERM');
    expect(await running.exited).to.equal(0);
  });

  it('gives up after connectRetryMs, saying how often it tried', async () => {
    const port = await freePort();
    const began = Date.now();
    const failure = await failedStart({ servers: `nats://127.0.0.1:${port}`, connectRetryMs: 700 });
    const took = Date.now() - began;
    expect(failure).to.be.instanceOf(ConnectionError);
    expect((failure as Error).message)
      .to.include('connection refused')
      .and.match(/after \d+ tries in 700 ms/);
    expect(took).to.be.within(400, 5_000);
  });

  it('fails at once without it (Brigade.start), and at once on refused credentials whatever it says', async () => {
    const port = await freePort();
    const began = Date.now();
    const unreachable = await failedStart({ servers: `nats://127.0.0.1:${port}` });
    expect(unreachable).to.be.instanceOf(ConnectionError);
    expect(Date.now() - began).to.be.lessThan(2_000);

    const guarded = cleanup.add(await NatsServer.start({ token: 'right' }), (s) => s.stop());
    const refusedAt = Date.now();
    const refused = await failedStart({
      servers: guarded.url,
      token: 'wrong',
      connectRetryMs: 20_000,
    });
    expect((refused as Error).message).to.include('authorization violation');
    expect(Date.now() - refusedAt, 'no retry of refused credentials').to.be.lessThan(2_000);

    const wrong = await failedStart({ servers: guarded.url, token: 'right', connectRetryMs: -1 });
    expect((wrong as Error).message).to.include('nats.connectRetryMs must be a number');
  });
});
