import { expect } from 'chai';
import { connect, headers, type NatsConnection } from 'nats';
import { BrigadeClient } from '@brigade/core';
import { encodeCommandsOf } from '@brigade/core/internal';
import { Cleanup, NatsServer, RawNatsConnection, waitFor } from '@brigade/testing';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

interface WithProtocol {
  protocol: { sendCommand: unknown };
}
const ownSendCommand = (nc: object): boolean =>
  Object.prototype.hasOwnProperty.call((nc as WithProtocol).protocol, 'sendCommand');

describe('commands encoded into the slab', () => {
  const cleanup = new Cleanup();
  let server: NatsServer;
  afterEach(() => cleanup.run());
  beforeEach(async () => {
    server = cleanup.add(await NatsServer.start(), (s) => s.stop());
  });

  const connection = async (): Promise<NatsConnection> =>
    cleanup.add(await connect({ servers: server.url }), (c) => c.close());

  it('put the same bytes on the wire as the client does, subscriptions included', async () => {
    const plain = await connection();
    const slab = await connection();
    expect(encodeCommandsOf(slab), 'the client has the method it wraps').to.equal(true);
    const raw = cleanup.add(await RawNatsConnection.open(server.url), (c) => c.close());
    const fromPlain = raw.subscribe('plain.>');
    const fromSlab = raw.subscribe('slab.>');
    await raw.request('nobody', {}).catch(() => undefined); // the subscriptions are in place
    const sendAll = (nc: NatsConnection, prefix: string): void => {
      for (let i = 0; i < 400; i++) {
        const h = headers();
        h.set('brigade-timeout-ms', String(i));
        h.append('x-dish', i % 2 ? 'bibimbap' : 'kimchi');
        const payload =
          i % 50 === 0 ? new Uint8Array(100_000).fill(i) : utf8(`{"id":${i},"비":"밥"}`);
        nc.publish(`${prefix}.é.${i}`, i % 3 ? payload : new Uint8Array(0), {
          headers: i % 4 ? h : undefined,
          reply: i % 5 ? `_INBOX.${'r'.repeat(i % 40)}` : undefined,
        });
      }
    };
    sendAll(plain, 'plain');
    sendAll(slab, 'slab');
    await waitFor(() => fromPlain.received.length === 400 && fromSlab.received.length === 400, {
      timeout: 10_000,
    });
    const strip = (prefix: string) => (m: (typeof fromPlain.received)[number]) => ({
      ...m,
      subject: m.subject.slice(prefix.length),
    });
    expect(fromSlab.received.map(strip('slab'))).to.deep.equal(
      fromPlain.received.map(strip('plain')),
    );

    // SUB and UNSUB go through the same method.
    const got: string[] = [];
    const sub = slab.subscribe('back', { callback: (_err, m) => got.push(m.string()) });
    await slab.flush();
    plain.publish('back', utf8('one'));
    await waitFor(() => got.length === 1);
    sub.unsubscribe();
    await slab.flush();
    plain.publish('back', utf8('two'));
    await plain.flush();
    await slab.flush();
    expect(got).to.deep.equal(['one']);
  });

  it('is what Brigade connections send with, and leaves a client without the method alone', async () => {
    const client = cleanup.add(
      await BrigadeClient.connect({ nats: { servers: server.url }, logger: { level: 'silent' } }),
      (c) => c.close(),
    );
    const nc = (client as unknown as { transport: { connection: object } }).transport.connection;
    expect(ownSendCommand(nc)).to.equal(true);
    expect(ownSendCommand(await connection())).to.equal(false);
    expect(encodeCommandsOf({})).to.equal(false);
    expect(encodeCommandsOf({ protocol: {} })).to.equal(false);
  });
});
