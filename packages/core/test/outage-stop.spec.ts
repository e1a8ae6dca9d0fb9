import { expect } from 'chai';
import { Endpoint, Service, Subscribe } from '@brigade/core';
import { startApp, waitFor } from '@brigade/testing';
import { serverPerTest } from './support/server-per-test';
import { captureLogs } from './support/log-capture';

@Service({ name: 'stranded' })
class Stranded {
  @Endpoint('stranded.ping')
  ping(): string {
    return 'pong';
  }

  @Subscribe('stranded.event')
  event(): void {}
}

describe('stopping while NATS is away @integration', function () {
  this.timeout(30_000);
  const bed = serverPerTest();

  it('stops at once, says what it drops, and leaves no reconnecting client behind', async () => {
    const { logger, lines } = captureLogs();
    const app = await startApp(bed.server, {
      services: [Stranded],
      ops: { port: 0, host: '127.0.0.1' },
      logger: { instance: logger },
    });
    const port = app.opsPort as number;
    await bed.server.kill();
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 503, {
      message: 'the app notices the outage',
    });
    const began = Date.now();
    await app.stop();
    expect(Date.now() - began, 'no wait for a server that is away').to.be.lessThan(3_000);
    expect(lines.map((l) => l['msg'])).to.include(
      'closing while disconnected from NATS: what was not sent yet is dropped',
    );
    // Closed for good: a server back on the port gets no reconnect from it.
    await app.closed();
    await bed.server.restart();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(lines.map((l) => l['msg'])).to.not.include(
      'reconnected to NATS; subscriptions restored',
    );
  });
});
