import { expect } from 'chai';
import { container, NotFoundError } from '@brigade/core';
import { Cleanup, NatsServer, startApp, waitFor } from '@brigade/testing';
import { Greeter } from '../src/greeter.service.js';
import { Ledger } from '../src/ledger.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

describe('the greeter, installed from a registry', () => {
  it('answers, publishes, hears its own event and shares the singleton', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const app = cleanup.add(await startApp(server, { services: [Greeter] }), (a) => a.stop());
    expect(await app.bus.request('greeter.hello', 'Ada')).to.equal('hello, Ada');
    const ledger = container.resolve(Ledger);
    await waitFor(() => ledger.entries.length === 2, { message: 'the event was not handled' });
    expect(ledger.entries.map((e) => e.name)).to.deep.equal(['Ada', 'greeted Ada']);
  });

  it('sends a typed error over the wire', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const app = cleanup.add(await startApp(server, { services: [Greeter] }), (a) => a.stop());
    const error = await app.bus.request('greeter.hello', 'nobody').catch((err: unknown) => err);
    expect(error).to.be.instanceOf(NotFoundError);
    expect((error as NotFoundError).message).to.equal('nobody to greet');
  });
});
