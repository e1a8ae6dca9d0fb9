import { expect } from 'chai';
import { connect, JSONCodec } from 'nats';
import { Cleanup, NatsServer, waitFor } from '@brigade/testing';
import { startChildService } from './support/child-service';

const json = JSONCodec();

describe('Brigade.run entry helper @integration', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('drains on SIGTERM: the in-flight request is answered and the process exits 0', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const proc = startChildService('entry.fixture.ts', server.url);
    cleanup.add(proc.child, (c) => c.kill('SIGKILL'));
    await waitFor(() => proc.output().includes("service 'fixture' started"), { timeout: 15_000 });
    const client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
    const reply = client.request('fixture.slow', json.encode(400), { timeout: 5_000 });
    // NATS keeps one connection's messages in order: once this second reply is back, the first
    // request has reached the handler and is in flight.
    await waitFor(
      async () => (await client.request('fixture.slow', json.encode(0))).string() === '"finished"',
    );
    proc.child.kill('SIGTERM');
    expect((await reply).string()).to.equal('"finished"');
    expect(await proc.exited).to.equal(0);
    expect(proc.output()).to.include('SIGTERM received').and.include('stopped');
  });

  it('stops gracefully, once started, on a SIGTERM that came while it was starting', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const proc = startChildService('slow-start.fixture.ts', server.url);
    cleanup.add(proc.child, (c) => c.kill('SIGKILL'));
    await waitFor(() => proc.output().includes('warming up'), { timeout: 15_000 });
    proc.child.kill('SIGTERM');
    expect(await proc.exited).to.equal(0);
    expect(proc.output())
      .to.include("service 'slow' started")
      .and.include('SIGTERM received')
      .and.include('stopped');
  });

  it('logs a rejection nobody handled outside any handler, and keeps serving', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const proc = startChildService('faults.fixture.ts', server.url);
    cleanup.add(proc.child, (c) => c.kill('SIGKILL'));
    await waitFor(() => proc.output().includes("service 'faulty' started"), { timeout: 15_000 });
    const client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
    for (let i = 0; i < 3; i++) await client.request('faulty.reject', json.encode(0));
    await waitFor(() => proc.output().includes('a rejection nobody handles'));
    expect((await client.request('faulty.ping')).string()).to.equal('"pong"');
    const lines = proc
      .output()
      .split('\n')
      .filter((l) => l.includes('nothing handled it'));
    expect(lines, 'the first in full, the others summed up later').to.have.length(1);
    expect(JSON.parse(lines[0] as string)).to.deep.include({
      level: 50,
      thrown: 'Error: a rejection nobody handles',
    });
    proc.child.kill('SIGTERM');
    expect(await proc.exited).to.equal(0);
  });

  it('stops gracefully and exits 1 on an exception nothing caught, answering what was in flight', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const proc = startChildService('faults.fixture.ts', server.url);
    cleanup.add(proc.child, (c) => c.kill('SIGKILL'));
    await waitFor(() => proc.output().includes("service 'faulty' started"), { timeout: 15_000 });
    const client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
    const inFlight = client.request('faulty.slow', json.encode(500), { timeout: 5_000 });
    await client.request('faulty.throw', json.encode(0));
    expect((await inFlight).string()).to.equal('"finished"');
    expect(await proc.exited).to.equal(1);
    const fatal = proc
      .output()
      .split('\n')
      .find((l) => l.includes('an exception nothing caught'));
    expect(JSON.parse(fatal as string)).to.deep.include({
      level: 60,
      thrown: 'Error: a timer callback threw',
    });
    expect(proc.output()).to.include('"msg":"stopped"');
  });

  it('exits 1 with the reason when the start fails', async () => {
    // Refused credentials: no retry helps (an unreachable server is waited for, see connect-retry).
    const server = cleanup.add(await NatsServer.start({ token: 'secret' }), (s) => s.stop());
    const proc = startChildService('entry.fixture.ts', server.url);
    cleanup.add(proc.child, (c) => c.kill('SIGKILL'));
    expect(await proc.exited).to.equal(1);
    expect(proc.output()).to.include('failed to start').and.include('authorization violation');
  });

  it('names BRIGADE_LOG_LEVEL and the levels there are when it holds no level', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const proc = startChildService('default-logger.fixture.ts', server.url, {
      BRIGADE_LOG_LEVEL: 'verbose',
    });
    cleanup.add(proc.child, (c) => c.kill('SIGKILL'));
    expect(await proc.exited).to.equal(1);
    expect(proc.output()).to.include(
      "failed to start: BRIGADE_LOG_LEVEL is 'verbose': use one of trace, debug, info, warn, error, fatal, silent",
    );
    expect(proc.output()).to.not.match(/\n\s+at /);
  });

  it('writes JSON lines when stdout is no terminal, and an expected 4xx without a stack trace', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const proc = startChildService('default-logger.fixture.ts', server.url);
    cleanup.add(proc.child, (c) => c.kill('SIGKILL'));
    await waitFor(() => proc.output().includes("service 'quiet' started"), { timeout: 15_000 });
    const client = cleanup.add(await connect({ servers: server.url }), (nc) => nc.close());
    const reply = await client.request('quiet.missing', json.encode(null));
    expect(reply.headers?.get('Nats-Service-Error-Code')).to.equal('404');
    await waitFor(() => proc.output().includes('answered 404'));
    proc.child.kill('SIGTERM');
    expect(await proc.exited).to.equal(0);
    const lines = proc
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const answered = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((r) => String(r['msg']).includes('answered 404'));
    expect(answered).to.include({ status: 404, reason: 'no such thing', level: 30 });
    expect(answered).to.not.have.property('err');
    expect(proc.output()).to.not.include('"stack"');
  });

  it('writes lines a person reads with BRIGADE_LOG_FORMAT=pretty, and names the variable when it holds no format', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const pretty = startChildService('default-logger.fixture.ts', server.url, {
      BRIGADE_LOG_FORMAT: 'pretty',
    });
    cleanup.add(pretty.child, (c) => c.kill('SIGKILL'));
    await waitFor(() => pretty.output().includes("service 'quiet' started"), { timeout: 15_000 });
    pretty.child.kill('SIGTERM');
    expect(await pretty.exited).to.equal(0);
    expect(pretty.output()).to.match(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}quiet: service 'quiet' started/m,
    );
    expect(pretty.output()).to.not.match(/^\{"level"/m);

    const wrong = startChildService('default-logger.fixture.ts', server.url, {
      BRIGADE_LOG_FORMAT: 'fancy',
    });
    cleanup.add(wrong.child, (c) => c.kill('SIGKILL'));
    expect(await wrong.exited).to.equal(1);
    expect(wrong.output()).to.include("BRIGADE_LOG_FORMAT is 'fancy': use one of json, pretty");
  });
});
