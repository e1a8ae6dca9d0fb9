import { connect, type NatsConnection } from 'nats';
import { BrigadeClient, type ClientOptions } from '@brigade/core';
import { Cleanup, NatsServer, type NatsServerOptions } from '@brigade/testing';

export interface TestBed {
  /** This test's own nats-server. */
  readonly server: NatsServer;
  /** A plain `nats` client on it. */
  readonly client: NatsConnection;
  /** Stops, after the test, whatever the test registers (and the two above). */
  readonly cleanup: Cleanup;
}

/** Registers mocha hooks that give each test its own nats-server and plain client, stopped after it. */
export function serverPerTest(options: NatsServerOptions = {}): TestBed {
  const cleanup = new Cleanup();
  let server: NatsServer | undefined;
  let client: NatsConnection | undefined;
  beforeEach(async () => {
    server = cleanup.add(await NatsServer.start(options), (s) => s.stop());
    const url = server.url;
    client = cleanup.add(await connect({ servers: url }), (nc) => nc.close());
  });
  afterEach(() => cleanup.run());
  return {
    cleanup,
    get server() {
      if (!server) throw new Error('the server starts in beforeEach');
      return server;
    },
    get client() {
      if (!client) throw new Error('the client connects in beforeEach');
      return client;
    },
  };
}

/** A silent `BrigadeClient` on this test's server, closed after the test. */
export async function brigadeClient(
  bed: TestBed,
  options: ClientOptions = {},
): Promise<BrigadeClient> {
  return bed.cleanup.add(
    await BrigadeClient.connect({
      nats: { servers: bed.server.url },
      logger: { level: 'silent' },
      ...options,
    }),
    (c) => c.close(),
  );
}
