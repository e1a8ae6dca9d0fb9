import { connect } from 'nats';
import { NatsServer, natsServerOfSuite, type NatsServerSuite } from '@brigade/testing';

export interface SuiteServer {
  /** Debian `suite`'s nats-server with JetStream, for the whole describe block. */
  readonly server: NatsServer;
  /** Its version, as it tells a client (`2.10.27`). */
  readonly version: string;
  /** Where it listens, as Brigade's messages name it (`127.0.0.1:4222`). */
  readonly address: string;
}

/** Registers mocha hooks that start Debian `suite`'s nats-server before a block and stop it after. */
export function suiteServer(suite: NatsServerSuite): SuiteServer {
  let server: NatsServer | undefined;
  let version = '';
  before(async () => {
    server = await NatsServer.start({ jetstream: true, binary: natsServerOfSuite(suite) });
    const nc = await connect({ servers: server.url });
    version = nc.info?.version ?? '';
    await nc.close();
  });
  after(() => server?.stop());
  return {
    get server() {
      if (!server) throw new Error('the server starts in before');
      return server;
    },
    get version() {
      return version;
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
