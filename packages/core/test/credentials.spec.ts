import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BrigadeClient,
  ConnectionError,
  Endpoint,
  Service,
  type ConnectionSettings,
} from '@brigade/core';
import { Cleanup, NatsServer, startApp } from '@brigade/testing';
import { captureLogs } from './support/log-capture';
import {
  makeCertificates,
  skipWithoutOpenssl,
  makeNkeyConfig,
  makeOperatorSetup,
  type Certificates,
} from './support/credentials';

const ENV = [
  'NATS_URL',
  'NATS_USER',
  'NATS_PASSWORD',
  'NATS_TOKEN',
  'NATS_NKEY',
  'NATS_CREDS',
  'NATS_CA',
  'NATS_CERT',
  'NATS_KEY',
];

describe('credentials and TLS @integration', function () {
  this.timeout(30_000);
  const cleanup = new Cleanup();
  /** Where the NKey and operator files go. */
  let work: string;
  const saved: Record<string, string | undefined> = {};

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'brigade-credentials-'));
    for (const name of ENV) saved[name] = process.env[name];
  });
  after(() => rmSync(work, { recursive: true, force: true }));
  afterEach(async () => {
    for (const name of ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await cleanup.run();
  });

  function server(args: string[]): Promise<NatsServer> {
    return NatsServer.start({ args }).then((s) => cleanup.add(s, (x) => x.stop()));
  }

  /** Connects, answers a ping through the server and closes; or rejects with the connect error. */
  async function roundTrip(nats: ConnectionSettings): Promise<number> {
    const started = Date.now();
    const client = await BrigadeClient.connect({ nats, logger: { level: 'silent' } });
    try {
      await client.bus.flush();
    } finally {
      await client.close();
    }
    return Date.now() - started;
  }

  async function refusal(nats: ConnectionSettings): Promise<{ error: Error; ms: number }> {
    const started = Date.now();
    const error = await roundTrip({ connectTimeoutMs: 3_000, ...nats }).then(
      () => new Error('connected, but should not have'),
      (e: Error) => e,
    );
    return { error, ms: Date.now() - started };
  }

  describe('user and password', () => {
    // A password that starts with digits: the nats client reads it as a port when it is in a URL.
    const PASSWORD = '937d845f-secret';

    it('connects with settings, with credentials in the URL, and from the environment', async () => {
      const s = await server(['--user', 'rel', '--pass', PASSWORD]);
      await roundTrip({ servers: s.url, user: 'rel', pass: PASSWORD });
      await roundTrip({
        servers: `nats://rel:${encodeURIComponent(PASSWORD)}@127.0.0.1:${s.port}`,
      });
      process.env['NATS_URL'] = s.url;
      process.env['NATS_USER'] = 'rel';
      process.env['NATS_PASSWORD'] = PASSWORD;
      await roundTrip({});
    });

    it('fails fast on a wrong password, and never shows it', async () => {
      const s = await server(['--user', 'rel', '--pass', PASSWORD]);
      const { error, ms } = await refusal({
        servers: `nats://rel:wrong-${PASSWORD}@127.0.0.1:${s.port}`,
      });
      expect(error).to.be.instanceOf(ConnectionError);
      expect(error.message).to.include('authorization violation');
      expect(error.message).to.not.include(PASSWORD);
      expect(ms).to.be.below(2_000);
    });

    it('refuses credentials given twice and differently, and URLs it cannot read, naming them masked', async () => {
      const both = await refusal({
        servers: `nats://a:${PASSWORD}@127.0.0.1:1`,
        user: 'b',
        pass: 'c',
      });
      expect(both.error.message)
        .to.include('credentials are given twice')
        .and.not.include(PASSWORD);
      expect(both.error.message).to.include('nats://***@127.0.0.1:1');
      for (const [url, reason] of [
        [`http://rel:${PASSWORD}@127.0.0.1:4222`, 'the scheme must be nats:// or tls://'],
        [`nats://rel:${PASSWORD}@[::1`, 'expected nats://host:port'],
        [`nats://rel:${PASSWORD}@127.0.0.1:4222/path`, 'no path, query or fragment'],
        [
          `nats//rel:${PASSWORD}@127.0.0.1:4222`,
          "the colon after 'nats' is missing: nats://***@127.0.0.1:4222",
        ],
        [
          `tls:/rel:${PASSWORD}@127.0.0.1:4222`,
          'the scheme takes two slashes: tls://***@127.0.0.1:4222',
        ],
      ] as const) {
        const { error } = await refusal({ servers: url });
        expect(error.message, url).to.include(reason).and.not.include(PASSWORD);
        expect(error.message, url).to.include('***@');
      }
    });

    it('keeps the password out of every log line of an app', async () => {
      const s = await server(['--user', 'rel', '--pass', PASSWORD]);
      const logs = captureLogs();
      @Service({ name: 'quiet' })
      class Quiet {
        @Endpoint('quiet.ping')
        ping(): string {
          return 'pong';
        }
      }
      const app = await startApp(s, {
        services: [Quiet],
        nats: { servers: `nats://rel:${PASSWORD}@127.0.0.1:${s.port}` },
        logger: { instance: logs.logger },
      });
      await app.stop();
      const failed = await startApp(s, {
        services: [Quiet],
        nats: {
          servers: `nats://rel:nope${PASSWORD}@127.0.0.1:${s.port}`,
          connectTimeoutMs: 2_000,
        },
        logger: { instance: logs.logger },
      }).catch((e: Error) => e);
      expect(String(failed)).to.include('authorization violation').and.not.include(PASSWORD);
      expect(logs.lines.length).to.be.greaterThan(0);
      expect(JSON.stringify(logs.lines)).to.not.include(PASSWORD);
    });
  });

  describe('token', () => {
    it('connects with a token in settings, the URL or NATS_TOKEN, and fails fast on a wrong one', async () => {
      const s = cleanup.add(await NatsServer.start({ token: 's3cr3t-token' }), (x) => x.stop());
      await roundTrip({ servers: s.url, token: 's3cr3t-token' });
      await roundTrip({ servers: `nats://s3cr3t-token@127.0.0.1:${s.port}` });
      process.env['NATS_TOKEN'] = 's3cr3t-token';
      await roundTrip({ servers: s.url });
      delete process.env['NATS_TOKEN'];
      const { error, ms } = await refusal({ servers: s.url, token: 'guess' });
      expect(error.message).to.include('authorization violation').and.not.include('guess');
      expect(ms).to.be.below(2_000);
    });
  });

  describe('NKey', () => {
    it('signs the challenge with a seed from settings or NATS_NKEY, and fails fast with another', async () => {
      const { config, seed } = makeNkeyConfig(work);
      const s = await server(['-c', config]);
      await roundTrip({ servers: s.url, nkeySeed: seed });
      process.env['NATS_NKEY'] = seed;
      await roundTrip({ servers: s.url });
      delete process.env['NATS_NKEY'];
      const other = makeNkeyConfig(work).seed;
      const { error, ms } = await refusal({ servers: s.url, nkeySeed: other });
      expect(error.message).to.include('authorization violation').and.not.include(other);
      expect(ms).to.be.below(2_000);
    });
  });

  describe('.creds (operator mode)', () => {
    it('connects with a user JWT the account signed, from settings or NATS_CREDS; refuses a stranger', async () => {
      const setup = makeOperatorSetup(work);
      const s = await server(['-c', setup.config]);
      await roundTrip({ servers: s.url, credentialsFile: setup.creds });
      process.env['NATS_CREDS'] = setup.creds;
      await roundTrip({ servers: s.url });
      delete process.env['NATS_CREDS'];
      const { error, ms } = await refusal({ servers: s.url, credentialsFile: setup.foreignCreds });
      expect(error).to.be.instanceOf(ConnectionError);
      expect(error.message).to.match(/authorization violation|authentication/i);
      expect(ms).to.be.below(2_000);
    });
  });

  describe('TLS', () => {
    let certs: Certificates;
    before(function () {
      skipWithoutOpenssl(this);
      certs = makeCertificates();
    });
    after(() => certs && rmSync(certs.dir, { recursive: true, force: true }));

    const tlsArgs = (): string[] => [
      '--tls',
      '--tlscert',
      certs.serverCert,
      '--tlskey',
      certs.serverKey,
    ];

    it('connects to a TLS server that the given CA vouches for, from settings or NATS_CA', async () => {
      const s = await server(tlsArgs());
      await roundTrip({ servers: `tls://127.0.0.1:${s.port}`, tls: { caFile: certs.ca } });
      process.env['NATS_CA'] = certs.ca;
      await roundTrip({ servers: s.url });
    });

    it('says TLS and why when the server certificate is not trusted', async () => {
      const s = await server(tlsArgs());
      const { error } = await refusal({ servers: s.url, tls: true });
      expect(error.message).to.match(/TLS failed: .*(self.signed|certificate)/i);
    });

    it('connects with a client certificate to a server that requires one, and says what is missing without one', async () => {
      const s = await server([...tlsArgs(), '--tlsverify', '--tlscacert', certs.ca]);
      await roundTrip({
        servers: s.url,
        tls: { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey },
      });
      process.env['NATS_CA'] = certs.ca;
      process.env['NATS_CERT'] = certs.clientCert;
      process.env['NATS_KEY'] = certs.clientKey;
      await roundTrip({ servers: s.url });
      const { error, ms } = await refusal({ servers: s.url, tls: { caFile: certs.ca } });
      expect(error.message).to.include('TLS').and.include('client certificate');
      expect(ms).to.be.below(3_500);
    });
  });
});
