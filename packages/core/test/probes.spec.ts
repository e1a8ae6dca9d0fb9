import { expect } from 'chai';
import { Endpoint, InvalidOptionError, Service } from '@brigade/core';
import { NatsServer, startApp, waitFor } from '@brigade/testing';
import { serverPerTest } from './support/server-per-test';
import { freePort } from './support/free-port';
import { startChildService } from './support/child-service';

async function probe(port: number, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.json() };
}

@Service({ name: 'probed' })
class Probed {
  static release: (() => void) | undefined;

  @Endpoint('probed.ping')
  ping(): string {
    return 'pong';
  }

  @Endpoint('probed.slow')
  async slow(): Promise<string> {
    await new Promise<void>((resolve) => (Probed.release = resolve));
    return 'done';
  }
}

describe('health probes @integration', () => {
  const bed = serverPerTest();

  it('is live and ready once started, not ready while NATS is away, and ready again after', async () => {
    const app = bed.cleanup.add(
      await startApp(bed.server, { services: [Probed], ops: { port: 0, host: '127.0.0.1' } }),
      (a) => a.stop(),
    );
    const port = app.opsPort as number;
    expect(await probe(port, '/livez')).to.deep.equal({ status: 200, body: { status: 'live' } });
    expect(await probe(port, '/readyz')).to.deep.equal({ status: 200, body: { status: 'ready' } });

    await bed.server.kill();
    await waitFor(async () => (await probe(port, '/readyz')).status === 503, {
      message: 'not ready while NATS is away',
    });
    expect((await probe(port, '/readyz')).body).to.deep.include({ status: 'not ready' });
    expect((await probe(port, '/livez')).status).to.equal(200); // alive all the same
    await bed.server.restart();
    await waitFor(async () => (await probe(port, '/readyz')).status === 200, {
      timeout: 15_000,
      message: 'ready again after the reconnect',
    });
    expect(await app.bus.request('probed.ping')).to.equal('pong');
  });

  it('is not ready while it drains, and stops serving after the stop', async () => {
    const app = await startApp(bed.server, {
      services: [Probed],
      ops: { port: 0, host: '127.0.0.1' },
    });
    const port = app.opsPort as number;
    const reply = app.bus.request('probed.slow', undefined, { timeout: 10_000 });
    await waitFor(() => Probed.release !== undefined);
    const stopped = app.stop();
    await waitFor(async () => (await probe(port, '/readyz')).status === 503);
    expect((await probe(port, '/readyz')).body).to.deep.equal({
      status: 'not ready',
      reason: 'stopping: draining in-flight messages',
    });
    Probed.release?.();
    expect(await reply).to.equal('done');
    await stopped;
    const after = await fetch(`http://127.0.0.1:${port}/livez`).catch((e: unknown) => e);
    expect(after).to.be.an('error');
  });

  it('answers 404 elsewhere and 405 to other methods, and refuses a port that is no port', async () => {
    const app = bed.cleanup.add(
      await startApp(bed.server, { services: [Probed], ops: { port: 0, host: '127.0.0.1' } }),
      (a) => a.stop(),
    );
    expect((await probe(app.opsPort as number, '/metricz')).status).to.equal(404);
    const post = await fetch(`http://127.0.0.1:${app.opsPort as number}/readyz`, {
      method: 'POST',
    });
    expect(post.status).to.equal(405);
    const refused = await startApp(bed.server, { services: [Probed], ops: { port: 70_000 } }).catch(
      (e: unknown) => e,
    );
    expect(refused).to.be.instanceOf(InvalidOptionError);
    expect((refused as Error).message).to.include('ops.port');
  });

  it('serves them on BRIGADE_OPS_PORT under Brigade.run, and names the variable when it holds no port', async () => {
    const server = bed.cleanup.add(await NatsServer.start(), (s) => s.stop());
    const port = await freePort();
    const running = startChildService('default-logger.fixture.ts', server.url, {
      BRIGADE_OPS_PORT: String(port),
    });
    bed.cleanup.add(running.child, (c) => c.kill('SIGKILL'));
    await waitFor(
      async () => (await probe(port, '/readyz').catch(() => undefined))?.status === 200,
      {
        timeout: 15_000,
        message: 'the child never became ready',
      },
    );
    running.child.kill('SIGTERM');
    expect(await running.exited).to.equal(0);

    const wrong = startChildService('default-logger.fixture.ts', server.url, {
      BRIGADE_OPS_PORT: 'ninety',
    });
    bed.cleanup.add(wrong.child, (c) => c.kill('SIGKILL'));
    expect(await wrong.exited).to.equal(1);
    expect(wrong.output()).to.include(
      "BRIGADE_OPS_PORT is 'ninety': use a port number from 0 to 65535",
    );
  });
});
