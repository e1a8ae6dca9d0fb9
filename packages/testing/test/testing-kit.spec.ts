import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { Cleanup, findNatsServer, NatsCluster, NatsServer, waitFor } from '@brigade/testing';

describe('testing kit', () => {
  describe('waitFor', () => {
    it('returns the first truthy value of the condition', async () => {
      let calls = 0;
      expect(await waitFor(() => (++calls >= 3 ? `after ${calls}` : undefined))).to.equal(
        'after 3',
      );
    });

    it('fails at the deadline with the message and the last error', async () => {
      const failure = await waitFor(
        () => {
          throw new Error('not yet');
        },
        { timeout: 50, message: 'the order to be served' },
      ).catch((e: Error) => e.message);
      expect(failure).to.equal(
        'waitFor: the order to be served within 50 ms (last error: not yet)',
      );
    });
  });

  describe('finding nats-server', () => {
    const saved = { bin: process.env['NATS_SERVER_BIN'], path: process.env['PATH'] };
    afterEach(() => {
      process.env['PATH'] = saved.path;
      if (saved.bin === undefined) delete process.env['NATS_SERVER_BIN'];
      else process.env['NATS_SERVER_BIN'] = saved.bin;
    });

    it('names the install command when NATS_SERVER_BIN points nowhere', () => {
      process.env['NATS_SERVER_BIN'] = '/nonexistent/nats-server';
      expect(() => findNatsServer()).to.throw('apt-get install -y nats-server');
    });

    it('finds it on PATH', () => {
      delete process.env['NATS_SERVER_BIN'];
      expect(findNatsServer()).to.match(/nats-server$/);
    });
  });

  describe("Debian's nats-server, fetched into a cache, nothing installed @integration", function () {
    this.timeout(300_000);
    const saved = { ...process.env };
    let cache: string;
    beforeEach(() => {
      cache = mkdtempSync(join(tmpdir(), 'brigade-debian-cache-'));
      process.env['XDG_CACHE_HOME'] = cache;
      delete process.env['NATS_SERVER_BIN'];
    });
    afterEach(() => {
      for (const name of ['XDG_CACHE_HOME', 'NATS_SERVER_SUITE', 'NATS_SERVER_BIN'])
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      rmSync(cache, { recursive: true, force: true });
    });

    it('takes the suite NATS_SERVER_SUITE names into a cache of its own, once, and runs it', async () => {
      process.env['NATS_SERVER_SUITE'] = 'trixie';
      const bin = findNatsServer();
      expect(bin).to.equal(
        join(cache, 'brigade/debian/trixie/nats-server/root/usr/sbin/nats-server'),
      );
      expect(execFileSync(bin, ['--version'], { encoding: 'utf8' })).to.match(
        /^nats-server: v2\.10\./,
      );
      // Later calls take it from the cache: no apt-get run again.
      const began = performance.now();
      expect(findNatsServer()).to.equal(bin);
      expect(performance.now() - began).to.be.below(50);
      const server = await NatsServer.start({ jetstream: true });
      try {
        const nc = await connect({ servers: server.url });
        expect(nc.info?.version).to.match(/^2\.10\./);
        await nc.close();
      } finally {
        await server.stop();
      }
    });
  });

  describe('NatsServer @integration', () => {
    const cleanup = new Cleanup();
    afterEach(() => cleanup.run());

    it('runs on a random loopback port and stops by its own handle', async () => {
      const one = cleanup.add(await NatsServer.start(), (s) => s.stop());
      const two = cleanup.add(await NatsServer.start(), (s) => s.stop());
      expect(one.port).to.not.equal(two.port);
      expect(one.url).to.match(/^nats:\/\/127\.0\.0\.1:\d+$/);
      const nc = await connect({ servers: one.url });
      await nc.close();
      await one.stop();
      expect(one.isRunning).to.equal(false);
      const refused = await connect({ servers: one.url, reconnect: false }).catch(
        (e: { code: string }) => e.code,
      );
      expect(refused).to.equal('CONNECTION_REFUSED');
      const stillUp = await connect({ servers: two.url });
      await stillUp.close();
    });

    it('starts with JetStream in a temporary store and restarts on the same port', async () => {
      const server = cleanup.add(await NatsServer.start({ jetstream: true }), (s) => s.stop());
      const nc = cleanup.add(await connect({ servers: server.url, reconnectTimeWait: 50 }), (c) =>
        c.close(),
      );
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: 'KIT', subjects: ['kit.>'] });
      const port = server.port;
      await server.restart();
      expect(server.port).to.equal(port);
      await waitFor(
        async () => (await (await nc.jetstreamManager()).streams.info('KIT')).config.name === 'KIT',
        {
          timeout: 10_000,
        },
      );
    });
  });

  describe('NatsCluster @integration', function () {
    this.timeout(60_000);
    const cleanup = new Cleanup();
    afterEach(() => cleanup.run());

    it('runs three JetStream nodes that keep a replicated stream through the loss of its leader', async () => {
      const cluster = cleanup.add(await NatsCluster.start(), (c) => c.stop());
      expect(new Set(cluster.nodes.map((n) => n.port)).size).to.equal(3);
      const nc = cleanup.add(await connect({ servers: cluster.url.split(',') }), (c) => c.close());
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: 'KEPT', subjects: ['kept.>'], num_replicas: 3 });
      const js = nc.jetstream();
      await js.publish('kept.one', new TextEncoder().encode('1'));
      const leader = await cluster.streamLeader('KEPT');
      await leader.kill();
      await waitFor(async () => (await cluster.streamLeader('KEPT')) !== leader, {
        timeout: 20_000,
        interval: 200,
      });
      await waitFor(() => js.publish('kept.two', new TextEncoder().encode('2')), {
        timeout: 20_000,
      });
      expect((await jsm.streams.info('KEPT')).state.messages).to.equal(2);
      await leader.restart();
      await cluster.waitForJetStream();
    });
  });
});
