import { connect, type NatsConnection } from 'nats';
import { Brigade, type BrigadeOptions } from '@brigade/core';
import { NatsServer, natsServerOfSuite, type NatsServerSuite } from '@brigade/testing';

export interface SuiteServer {
  /** Debian `suite`'s nats-server with JetStream, for the whole describe block. */
  readonly server: NatsServer;
  /** Its version, as it tells a client (`2.10.27`). */
  readonly version: string;
  /** Where it listens, as Brigade's messages name it (`127.0.0.1:4222`). */
  readonly address: string;
  /** A plain `nats` client on it, for the whole block. */
  readonly client: NatsConnection;
}

/** Registers mocha hooks that start Debian `suite`'s nats-server before a block and stop it after. */
export function suiteServer(suite: NatsServerSuite): SuiteServer {
  let server: NatsServer | undefined;
  let client: NatsConnection | undefined;
  before(async () => {
    server = await NatsServer.start({ jetstream: true, binary: natsServerOfSuite(suite) });
    client = await connect({ servers: server.url });
  });
  after(async () => {
    await client?.close();
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error('the server starts in before');
      return server;
    },
    get version() {
      return this.client.info?.version ?? '';
    },
    get client() {
      if (!client) throw new Error('the client connects in before');
      return client;
    },
    get address() {
      return this.server.url.replace('nats://', '');
    },
  };
}

/** What `promise` rejected with, or `undefined` when it resolved. */
export function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

/**
 * What `Brigade.start` failed with on this block's server, quietly; an app that did start is
 * stopped again, and `undefined` is returned.
 */
export function startRefusal(
  on: SuiteServer,
  options: Omit<BrigadeOptions, 'nats' | 'logger'>,
): Promise<unknown> {
  return rejectionOf(
    Brigade.start({
      ...options,
      nats: { servers: on.server.url },
      logger: { level: 'silent' },
    }).then((app) => app.stop()),
  );
}
