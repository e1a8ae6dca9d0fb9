import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Endpoint, NotFoundError, Service, Subscribe, type BrigadeApp } from '@brigade/core';
import { Cleanup, NatsServer, natsServerOfSuite, startApp, waitFor } from '@brigade/testing';
import { z } from 'zod';
import { brigade, CLI, type CliResult } from './run-cli';

describe('brigade CLI @integration', () => {
  const cleanup = new Cleanup();
  let server: NatsServer;
  let client: NatsConnection;
  let app: BrigadeApp;
  let fixed = false;
  const served: string[] = [];

  @Service({ name: 'kitchen', version: '2.1.0', description: 'cooks' })
  class Kitchen {
    @Endpoint('kitchen.status', {
      request: z.object({ table: z.number().int().optional() }).optional(),
    })
    status(query: { table?: number } | undefined): { busy: boolean; table: number | null } {
      if (query?.table === 13) throw new NotFoundError('no table 13', { details: { table: 13 } });
      return { busy: false, table: query?.table ?? null };
    }

    @Endpoint('kitchen.whoami', { queue: false })
    whoami(): string {
      return 'a kitchen';
    }

    @Endpoint('kitchen.slow')
    async slow(): Promise<string> {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      return 'late';
    }

    @Subscribe('orders.placed', { durable: { stream: 'ORDERS', maxDeliver: 1 } })
    cook(order: { id: string }): void {
      if (order.id === 'bad' && !fixed) throw new Error('burnt');
      served.push(order.id);
    }
  }

  const server$ = () => ['--server', server.url, '--timeout', '500'];

  before(async () => {
    server = cleanup.add(await NatsServer.start({ jetstream: true }), (s) => s.stop());
    client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
    app = cleanup.add(
      await startApp(server, {
        services: [Kitchen],
        streams: [{ name: 'ORDERS', subjects: ['orders.>'] }],
      }),
      (a) => a.stop(),
    );
    // A service written with the plain nats client: the CLI sees any ADR-32 service.
    const plain = await client.services.add({
      name: 'plain',
      version: '0.0.1',
      description: 'not Brigade',
    });
    plain.addEndpoint('echo', {
      subject: 'plain.echo',
      handler: (_err, msg) => msg.respond(msg.data),
    });
  });
  after(() => cleanup.run());

  describe('help and errors', () => {
    it('runs as `npx brigade` through the command npm linked at install time', async () => {
      const linked = join(__dirname, '..', '..', '..', 'node_modules', '.bin', 'brigade');
      const result = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
        const child = spawn(linked, ['--version'], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.once('error', reject);
        child.once('exit', (code) => resolve({ code, out }));
      });
      expect(result).to.deep.equal({ code: 0, out: '0.1.0\n' });
    });

    it('prints help for every command', async () => {
      const top = await brigade(['--help']);
      expect(top.code).to.equal(0);
      for (const command of [
        'new',
        'ls',
        'info',
        'stats',
        'request',
        'publish',
        'dlq',
        'schedules',
      ])
        expect(top.stdout).to.include(command);
      for (const command of [
        ['new'],
        ['ls'],
        ['info'],
        ['stats'],
        ['request'],
        ['publish'],
        ['dlq'],
        ['dlq', 'ls'],
        ['dlq', 'show'],
        ['dlq', 'replay'],
        ['schedules', 'ls'],
        ['schedules', 'cancel'],
        ['consumers', 'ls'],
        ['consumers', 'pause'],
        ['consumers', 'resume'],
      ]) {
        const help = await brigade([...command, '--help']);
        expect(help.code, command.join(' ')).to.equal(0);
        expect(help.stdout, command.join(' ')).to.include('Usage: brigade');
      }
    });

    it('says so and exits non-zero when no server answers', async () => {
      const down = await NatsServer.start();
      const url = down.url;
      await down.stop();
      const result = await brigade(['ls', '--server', url]);
      expect(result.code).to.equal(1);
      expect(result.stderr)
        .to.include(`cannot connect to NATS at ${url}`)
        .and.include('connection refused');
    });

    it('passes credentials: a token server accepts --token and refuses without it', async () => {
      const secured = cleanup.add(await NatsServer.start({ token: 'let-me-in' }), (s) => s.stop());
      const ok = await brigade([
        'ls',
        '--server',
        secured.url,
        '--token',
        'let-me-in',
        '--json',
        '--timeout',
        '300',
      ]);
      expect(ok.code, ok.stderr).to.equal(0);
      expect(JSON.parse(ok.stdout)).to.deep.equal([]);
      const refused = await brigade(['ls', '--server', secured.url]);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.include('authorization violation');
      const fromEnv = await brigade(['ls', '--server', secured.url, '--json', '--timeout', '300'], {
        env: { NATS_TOKEN: 'let-me-in' },
      });
      expect(fromEnv.code, fromEnv.stderr).to.equal(0);
    });

    it('uses credentials in --server and never prints them', async () => {
      const secured = cleanup.add(await NatsServer.start({ token: '4711-let-me-in' }), (s) =>
        s.stop(),
      );
      const ok = await brigade([
        'ls',
        '--server',
        `nats://4711-let-me-in@127.0.0.1:${secured.port}`,
        '--json',
        '--timeout',
        '300',
      ]);
      expect(ok.code, ok.stderr).to.equal(0);
      const refused = await brigade([
        'ls',
        '--server',
        `nats://4711-wrong@127.0.0.1:${secured.port}`,
      ]);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.include('authorization violation').and.not.include('4711-wrong');
      const invalid = await brigade(['ls', '--server', 'http://user:4711-secret@127.0.0.1:1']);
      expect(invalid.code).to.equal(2); // bad input: a usage error
      expect(invalid.stderr).to.include('invalid NATS server URL').and.not.include('4711-secret');
    });

    it('reads the server from NATS_URL', async () => {
      const result = await brigade(['ls', 'kitchen'], { env: { NATS_URL: server.url } });
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include('kitchen');
    });

    it('refuses a bad argument with usage status 2', async () => {
      expect(
        (await brigade(['request', 'kitchen.status', '{not json', ...server$()])).code,
      ).to.equal(2);
      expect(
        (await brigade(['request', 'kitchen.status', '-H', 'no-colon', ...server$()])).code,
      ).to.equal(2);
      expect((await brigade(['ls', 'bad name', ...server$()])).code).to.equal(2);
      expect((await brigade(['frobnicate'])).code).to.equal(2);
      // Bad input found before anything is sent is a usage error too, whatever finds it.
      const subject = await brigade(['request', 'kitchen status', ...server$()]);
      expect(subject.code, subject.stderr).to.equal(2);
      expect(subject.stderr).to.include("'kitchen status'");
      expect((await brigade(['request', 'kitchen.status', '--json', ...server$()])).code).to.equal(
        2,
      );
      expect((await brigade(['ls', '--server', server.url, '--timeout', 'soon'])).code).to.equal(2);
    });

    it('takes the connection options before the command as well as after it', async () => {
      const before = await brigade(['--server', server.url, '--timeout', '500', 'ls', '--json']);
      expect(before.code, before.stderr).to.equal(0);
      expect((JSON.parse(before.stdout) as { name: string }[]).map((s) => s.name)).to.include(
        'kitchen',
      );
      const nested = await brigade(['-s', server.url, 'dlq', 'ls']);
      expect(nested.code, nested.stderr).to.equal(0);
      // The command's own option, given after it, wins over the one given before.
      const both = await brigade([
        '-s',
        'nats://127.0.0.1:1',
        'ls',
        '-s',
        server.url,
        '--timeout',
        '500',
      ]);
      expect(both.code, both.stderr).to.equal(0);
    });
  });

  describe('discovery', () => {
    it('returns once the answers stop, not at the end of the timeout', async () => {
      const started = performance.now();
      const ls = await brigade(['ls', '--server', server.url, '--timeout', '10000']);
      expect(ls.code, ls.stderr).to.equal(0);
      expect(performance.now() - started).to.be.below(8_000);
    });

    it('lists every service, Brigade or not, as a table and as JSON', async () => {
      const table = await brigade(['ls', ...server$()]);
      expect(table.code, table.stderr).to.equal(0);
      const lines = table.stdout.trim().split('\n');
      expect(lines[0]).to.match(/^NAME\s+VERSION\s+ID\s+ENDPOINTS\s+DESCRIPTION$/);
      expect(lines.find((l) => l.startsWith('kitchen'))).to.match(
        /^kitchen\s+2\.1\.0\s+\w+\s+4\s+cooks$/,
      );
      expect(lines.find((l) => l.startsWith('plain'))).to.match(
        /^plain\s+0\.0\.1\s+\w+\s+1\s+not Brigade$/,
      );
      const json = JSON.parse((await brigade(['ls', '--json', ...server$()])).stdout) as {
        name: string;
        id: string;
      }[];
      expect(json.map((s) => s.name).sort()).to.deep.equal(['kitchen', 'plain']);
      expect(json.find((s) => s.name === 'kitchen')?.id).to.equal(app.instanceIds.get('kitchen'));
    });

    it('shows endpoints with subjects, queue groups and kinds', async () => {
      const info = await brigade(['info', 'kitchen', ...server$()]);
      expect(info.code, info.stderr).to.equal(0);
      // First, the server it asked through: its version, as the server itself says it.
      const probe = await connect({ servers: server.url });
      const version = probe.info?.version as string;
      await probe.close();
      expect(info.stdout.split('\n')[0]).to.equal(
        `nats-server ${version} at 127.0.0.1:${new URL(server.url).port}, JetStream on`,
      );
      expect(info.stdout).to.include('kitchen 2.1.0').and.include('cooks');
      expect(info.stdout).to.match(/status\s+kitchen\.status\s+q\s+endpoint/);
      expect(info.stdout).to.include(`  instance: ${app.instanceIds.get('kitchen')}`);
      // Its request schema, as JSON Schema from the Service API metadata: named, and in full,
      // indented, with --schemas.
      expect(info.stdout).to.include(
        'schemas (JSON Schema, --schemas prints them): status request',
      );
      const schemas = await brigade(['info', 'kitchen', '--schemas', ...server$()]);
      expect(schemas.stdout)
        .to.include('  schemas (JSON Schema):\n    status request:\n      {')
        .and.match(/\n {10}"table": \{\n {12}"type": "integer"/);
      // Two instances alike are one block naming both.
      const twin = cleanup.add(
        await startApp(server, { services: [Kitchen], logger: { level: 'silent' } }),
        (a) => a.stop(),
      );
      const both = await brigade(['info', 'kitchen', ...server$()]);
      expect(both.stdout.match(/^kitchen 2\.1\.0/gm)).to.have.length(1);
      expect(both.stdout).to.match(/ {2}2 instances: \w+, \w+\n/);
      expect(both.stdout).to.include(twin.instanceIds.get('kitchen') as string);
      await twin.stop();
      expect(info.stdout).to.match(
        /cook\s+orders\.placed\s+\(none\)\s+durable event \(ORDERS\/kitchen_cook\)/,
      );
    });

    it('shows counters, and exits 1 when no such service answers', async () => {
      await app.bus.request('kitchen.status', {});
      await app.bus.request('kitchen.status', { table: 13 }).catch(() => undefined);
      const stats = await brigade(['stats', 'kitchen', ...server$()]);
      expect(stats.code, stats.stderr).to.equal(0);
      expect(stats.stdout).to.match(/kitchen\s+\w+\s+status\s+2\s+1\s+\S+\s+404 no table 13/);
      const json = JSON.parse(
        (await brigade(['stats', 'kitchen', '--json', ...server$()])).stdout,
      ) as { endpoints: { num_requests: number }[] }[];
      expect(json[0]?.endpoints[0]?.num_requests).to.equal(2);
      const none = await brigade(['info', 'nobody', ...server$()]);
      expect(none.code).to.equal(1);
      // It says which server it asked, and how to ask another.
      expect(none.stderr).to.include(
        `no service named 'nobody' answered at nats://127.0.0.1:${new URL(server.url).port} (set --server or NATS_URL)`,
      );
    });
  });

  describe('request and publish', () => {
    it('gathers every reply of a broadcast endpoint with --all, and stops when they stop', async () => {
      const second = cleanup.add(await startApp(server, { services: [Kitchen] }), (a) => a.stop());
      void second;
      const started = performance.now();
      const all = await brigade([
        'request',
        'kitchen.whoami',
        '--all',
        '--json',
        '--server',
        server.url,
        '--timeout',
        '10000',
      ]);
      expect(all.code, all.stderr).to.equal(0);
      expect(JSON.parse(all.stdout)).to.deep.equal([
        { ok: true, value: 'a kitchen' },
        { ok: true, value: 'a kitchen' },
      ]);
      expect(performance.now() - started, 'waited out the timeout').to.be.below(8_000);
      const text = await brigade(['request', 'kitchen.whoami', '--all', ...server$()]);
      expect(text.stdout).to.include('reply 1 of 2:').and.include('reply 2 of 2:');
      const nobody = await brigade(['request', 'nobody.home', '--all', ...server$()]);
      expect(nobody.code).to.equal(1);
      expect(nobody.stderr).to.include("no replies on 'nobody.home'");
    });

    it('prints the reply of a request, with headers sent', async () => {
      const ok = await brigade(['request', 'kitchen.status', '{"table":4}', ...server$()]);
      expect(ok.code, ok.stderr).to.equal(0);
      expect(JSON.parse(ok.stdout)).to.deep.equal({ busy: false, table: 4 });
      const echoed = await brigade([
        'req',
        'plain.echo',
        '"hello"',
        '-H',
        'x-table: 9',
        ...server$(),
      ]);
      expect(echoed.stdout.trim()).to.equal('"hello"');
    });

    it('prints an error reply with its code and exits 1', async () => {
      const failed = await brigade(['request', 'kitchen.status', '{"table":13}', ...server$()]);
      expect(failed.code).to.equal(1);
      expect(failed.stderr).to.include('error 404: no table 13').and.include('"table": 13');
    });

    it('tells no responders and timeouts apart, exiting 1', async () => {
      const nobody = await brigade(['request', 'nobody.home', ...server$()]);
      expect(nobody.code).to.equal(1);
      expect(nobody.stderr).to.include("no responders are listening on 'nobody.home'");
      const slow = await brigade([
        'request',
        'kitchen.slow',
        '--server',
        server.url,
        '--timeout',
        '300',
      ]);
      expect(slow.code).to.equal(1);
      expect(slow.stderr).to.include("request to 'kitchen.slow' timed out after 300 ms");
    });

    it('publishes events, durably when asked', async () => {
      const seen: string[] = [];
      const sub = client.subscribe('menu.changed', {
        callback: (_e, m) => seen.push(`${m.string()} ${m.headers?.get('x-by') ?? ''}`),
      });
      await client.flush();
      const published = await brigade([
        'pub',
        'menu.changed',
        '{"dish":"kimchi"}',
        '-H',
        'x-by: chef',
        ...server$(),
      ]);
      expect(published.code, published.stderr).to.equal(0);
      await waitFor(() => seen.length === 1);
      expect(seen).to.deep.equal(['{"dish":"kimchi"} chef']);
      sub.unsubscribe();

      const durable = await brigade([
        'publish',
        'orders.placed',
        '{"id":"o-1"}',
        '--durable',
        '--msg-id',
        'o-1',
        ...server$(),
      ]);
      expect(durable.code, durable.stderr).to.equal(0);
      expect(durable.stdout).to.match(/stored in ORDERS as sequence \d+/);
      await waitFor(() => served.includes('o-1'));
      const again = await brigade([
        'publish',
        'orders.placed',
        '{"id":"o-1"}',
        '--durable',
        '--msg-id',
        'o-1',
        ...server$(),
      ]);
      expect(again.stdout).to.include('duplicate');
      const lost = await brigade(['publish', 'menu.changed', '{}', '--durable', ...server$()]);
      expect(lost.code).to.equal(1);
      expect(lost.stderr).to.include("no stream stores subject 'menu.changed'");
    });
  });

  describe('dead letters', () => {
    it('lists, shows and replays them', async () => {
      await brigade([
        'publish',
        'orders.placed',
        '{"id":"bad"}',
        '--durable',
        '-H',
        'x-table: 7',
        ...server$(),
      ]);
      await waitFor(async () => (await app.deadLetters.list()).length === 1);
      const ls = await brigade(['dlq', 'ls', ...server$()]);
      expect(ls.code, ls.stderr).to.equal(0);
      const row = ls.stdout.trim().split('\n')[1] ?? '';
      expect(row).to.match(
        /^(\d+)\s+\S+\s+ORDERS\/kitchen_cook#\d+\s+orders\.placed\s+1\s+Error: burnt$/,
      );
      const seq = row.split(/\s+/)[0] as string;

      const show = await brigade(['dlq', 'show', seq, ...server$()]);
      expect(show.stdout)
        .to.include('reason     Error: burnt')
        .and.include('header     x-table: 7')
        .and.include('"id": "bad"');
      const json = JSON.parse(
        (await brigade(['dlq', 'ls', '--json', '--stream', 'ORDERS', ...server$()])).stdout,
      ) as { data: string }[];
      expect(json[0]?.data).to.equal('{"id":"bad"}');

      fixed = true;
      const replay = await brigade(['dlq', 'replay', seq, ...server$()]);
      expect(replay.code, replay.stderr).to.equal(0);
      await waitFor(() => served.includes('bad'));
      expect((await brigade(['dlq', 'ls', ...server$()])).stdout.trim()).to.equal(
        'no dead letters',
      );
      const nope = await brigade(['dlq', 'ls', '--dlq-stream', 'NOPE', ...server$()]);
      expect(nope.code).to.equal(1);
      expect(nope.stderr).to.include("there is no dead-letter stream 'NOPE'");
      const missing = await brigade(['dlq', 'show', '999', ...server$()]);
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.include('no dead letter with sequence 999');
    });

    it('deletes one: asks on a terminal, refuses without one unless --yes', async () => {
      fixed = false; // the kitchen burns 'bad' again
      for (const id of ['bad', 'bad'])
        await app.bus.publish('orders.placed', { id }, { durable: true });
      await waitFor(async () => (await app.deadLetters.list()).length === 2);
      const [first, second] = (await app.deadLetters.list()).map((l) => String(l.sequence));
      const unasked = await brigade(['dlq', 'delete', first as string, ...server$()]);
      expect(unasked.code).to.equal(2);
      expect(unasked.stderr).to.include('cannot be undone: pass --yes to confirm');
      expect(await app.deadLetters.list()).to.have.length(2);
      // On a terminal (a pseudo-terminal from util-linux's script), it asks.
      const asked = await onTerminal(['dlq', 'delete', first as string, ...server$()], 'y\n');
      expect(asked.stdout).to.include(
        `delete dead letter ${first} (orders.placed: Error: burnt) for good? [y/N]`,
      );
      expect(asked.stdout).to.include(`deleted dead letter ${first}`);
      const kept = await onTerminal(['dlq', 'delete', second as string, ...server$()], 'n\n');
      expect(kept.stdout).to.include('not deleted');
      expect((await app.deadLetters.list()).map((l) => String(l.sequence))).to.deep.equal([second]);
      const yes = await brigade(['dlq', 'delete', second as string, '--yes', ...server$()]);
      expect(yes.code, yes.stderr).to.equal(0);
      expect(await app.deadLetters.list()).to.deep.equal([]);
      const missing = await brigade(['dlq', 'delete', '999', '--yes', ...server$()]);
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.include('no dead letter with sequence 999');
    });
  });
});

describe('brigade schedules @integration', () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  it('lists schedules and cancels one, on a server that keeps them', async () => {
    const server = cleanup.add(
      await NatsServer.start({ jetstream: true, binary: natsServerOfSuite('sid') }),
      (s) => s.stop(),
    );
    @Service({ name: 'planner' })
    class Planner {}
    const app = cleanup.add(
      await startApp(server, {
        services: [Planner],
        streams: [{ name: 'ORDERS', subjects: ['orders.>'], schedules: true }],
      }),
      (a) => a.stop(),
    );
    const at = new Date(Date.now() + 3_600_000);
    const once = await app.schedules.schedule('orders.late-check.o-1', {}, { at }, { name: 'o-1' });
    await app.schedules.schedule(
      'orders.report',
      {},
      { cron: '0 0 9 * * mon-fri', timeZone: 'Asia/Seoul' },
      { name: 'morning' },
    );
    const flags = ['--server', server.url];
    const ls = await brigade(['schedules', 'ls', ...flags]);
    expect(ls.code, ls.stderr).to.equal(0);
    const rows = ls.stdout.trim().split('\n');
    expect(rows[0]).to.match(/^STREAM\s+NAME\s+SUBJECT\s+SCHEDULE\s+SCHEDULED AT$/);
    expect(rows[1]).to.match(
      /^ORDERS\s+morning\s+orders\.report\s+0 0 9 \* \* mon-fri \(Asia\/Seoul\)\s+\S+$/,
    );
    expect(rows[2]).to.include(`ORDERS  o-1      orders.late-check.o-1  ${once.schedule}`);
    const json = JSON.parse(
      (await brigade(['schedules', 'ls', 'ORDERS', '--json', ...flags])).stdout,
    );
    expect(json).to.have.length(2);
    const cancel = await brigade(['schedules', 'cancel', 'ORDERS', 'o-1', ...flags]);
    expect(cancel.code, cancel.stderr).to.equal(0);
    expect(cancel.stdout.trim()).to.equal("cancelled schedule 'o-1' of stream 'ORDERS'");
    const again = await brigade(['schedules', 'cancel', 'ORDERS', 'o-1', ...flags]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include("stream 'ORDERS' holds no schedule 'o-1'");
    expect((await app.schedules.list()).map((s) => s.name)).to.deep.equal(['morning']);
    const nope = await brigade(['schedules', 'ls', 'NOPE', ...flags]);
    expect(nope.code).to.equal(1);
    expect(nope.stderr).to.include("there is no stream 'NOPE'");
  });
});

describe('brigade consumers @integration', () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());
  const cooked: string[] = [];

  @Service({ name: 'kitchen' })
  class Kitchen {
    @Subscribe('orders.paid', { durable: { stream: 'ORDERS' } })
    cook(order: { id: string }): void {
      cooked.push(order.id);
    }
  }

  it('lists consumers, pauses one so that nothing reaches its handler, and resumes it', async () => {
    const server = cleanup.add(
      await NatsServer.start({ jetstream: true, binary: natsServerOfSuite('sid') }),
      (s) => s.stop(),
    );
    const app = cleanup.add(
      await startApp(server, {
        services: [Kitchen],
        streams: [{ name: 'ORDERS', subjects: ['orders.>'] }],
      }),
      (a) => a.stop(),
    );
    const flags = ['--server', server.url];
    const pause = await brigade([
      'consumers',
      'pause',
      'ORDERS',
      'kitchen_cook',
      '--for',
      '5m',
      ...flags,
    ]);
    expect(pause.code, pause.stderr).to.equal(0);
    expect(pause.stdout).to.match(/^paused consumer 'kitchen_cook' of 'ORDERS' until \S+Z\n$/);
    const ls = await brigade(['consumers', 'ls', ...flags]);
    const rows = ls.stdout.trim().split('\n');
    expect(rows[0]).to.match(
      /^STREAM\s+CONSUMER\s+PENDING\s+UNACKED\s+REDELIVERED\s+PAUSED UNTIL$/,
    );
    expect(rows.find((r) => r.startsWith('ORDERS '))).to.match(
      /^ORDERS\s+kitchen_cook\s+0\s+0\s+0\s+\S+Z$/,
    );
    await app.bus.publish('orders.paid', { id: 'o-1' }, { durable: true });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(cooked, 'nothing reaches a paused consumer').to.deep.equal([]);
    const resume = await brigade(['consumers', 'resume', 'ORDERS', 'kitchen_cook', ...flags]);
    expect(resume.stdout.trim()).to.equal("resumed consumer 'kitchen_cook' of 'ORDERS'");
    await waitFor(() => cooked.length === 1, { timeout: 10_000 });
    const json = JSON.parse(
      (await brigade(['consumers', 'ls', 'ORDERS', '--json', ...flags])).stdout,
    );
    expect(json[0]).to.include({ stream: 'ORDERS', name: 'kitchen_cook', pending: 0 });
    expect(json[0]).to.not.have.property('pausedUntil');
    const bad = await brigade([
      'consumers',
      'pause',
      'ORDERS',
      'kitchen_cook',
      '--for',
      'soon',
      ...flags,
    ]);
    expect(bad.code).to.equal(2);
    const missing = await brigade(['consumers', 'pause', 'ORDERS', 'nobody', ...flags]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/consumer not found/i);
  });

  it('says which server a pause needs on one without it', async () => {
    const server = cleanup.add(
      await NatsServer.start({ jetstream: true, binary: natsServerOfSuite('trixie') }),
      (s) => s.stop(),
    );
    cleanup.add(
      await startApp(server, {
        services: [Kitchen],
        streams: [{ name: 'ORDERS', subjects: ['orders.>'] }],
      }),
      (a) => a.stop(),
    );
    const pause = await brigade([
      'consumers',
      'pause',
      'ORDERS',
      'kitchen_cook',
      '--server',
      server.url,
      '--timeout',
      '1000',
    ]);
    expect(pause.code).to.equal(1);
    expect(pause.stderr).to.include('needs nats-server 2.11 or later');
  });
});

/** Runs the CLI on a pseudo-terminal (util-linux's `script`), typing `input` into it. */
function onTerminal(args: readonly string[], input: string): Promise<CliResult> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { ...process.env, NATS_URL: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('[y/N]') && input) {
        child.stdin.write(input);
        input = '';
      }
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
