import { expect } from 'chai';
import { connect, headers, type Msg, type NatsConnection } from 'nats';
import { Kind, Parser, State } from 'nats/lib/nats-base-client/parser';
import { BrigadeClient } from '@brigade/core';
import { readFramesOf, TESTED_NATS_VERSION, untestedClientWarning } from '@brigade/core/internal';
import { Cleanup, NatsServer, RawNatsConnection, waitFor } from '@brigade/testing';
import { random } from './support/random';
import { captureLogs } from './support/log-capture';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const hex = (bytes: Uint8Array | undefined): string | null =>
  bytes === undefined ? null : Buffer.from(bytes).toString('hex');

interface Recording {
  readonly log: unknown[];
  parser: { state: number; parse(chunk: Uint8Array): void };
  processMsg(msg: Record<string, unknown>, data: Uint8Array): void;
  push(event: { kind: Kind; msg?: Record<string, unknown>; data?: Uint8Array }): void;
}

/**
 * A stand-in for the client's protocol handler that writes down what its parser hands it: every
 * message with its arguments' names in order (their shape), values and bytes, and every other op.
 */
function recording(): Recording {
  const log: unknown[] = [];
  const protocol = {
    log,
    processMsg(msg: Record<string, unknown>, data: Uint8Array): void {
      const { sid, hdr, size, subject, reply } = msg;
      log.push([Object.keys(msg).join(), sid, hdr, size, hex(subject as Uint8Array)]);
      log.push([hex(reply as Uint8Array | undefined), hex(data)]);
    },
    push(event: { kind: Kind; msg?: Record<string, unknown>; data?: Uint8Array }): void {
      if (event.kind === Kind.MSG) return this.processMsg(event.msg!, event.data!);
      log.push([Kind[event.kind], hex(event.data)]);
    },
  } as Recording;
  protocol.parser = new Parser(protocol as never);
  return protocol;
}

/** Feeds `chunks` to `protocol.parser` in order: the index of the chunk it threw at, if it did. */
function feed(protocol: Recording, chunks: Uint8Array[]): number | undefined {
  for (let i = 0; i < chunks.length; i++) {
    try {
      protocol.parser.parse(chunks[i]!);
    } catch {
      return i;
    }
  }
  return undefined;
}

const SUBJECTS = ['bench.event', 'orders.paid', '_INBOX.Zx81.42', 'a', 'é.비빔밥', '>', '*.x'];
/**
 * What payloads and header blocks are made of: line ends, op names, a whole frame, bytes that are
 * not UTF-8.
 */
const PIECES = ['{"id":1}', '\r\n', '\n', '\r', ' ', 'MSG ', 'HMSG a 1 2 3', 'PING', 'x', '\t']
  .concat(['\nMSG in.payload 1 1\r\nZ\r\n'])
  .map(utf8)
  .concat([Uint8Array.of(0), Uint8Array.of(0xff, 0xfe), new Uint8Array(300).fill(0x61)]);

function bytesOf(next: () => number, pieces: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < pieces; i++) parts.push(PIECES[Math.floor(next() * PIECES.length)]!);
  return concat(parts);
}

const pick = <T>(next: () => number, items: readonly T[]): T =>
  items[Math.floor(next() * items.length)]!;

/** A MSG or HMSG frame as nats-server writes it: random subject, sid, reply, headers, payload. */
function regularFrame(next: () => number): Uint8Array {
  const subject = pick(next, SUBJECTS);
  const sid = 1 + Math.floor(next() * 100_000);
  const reply = next() < 0.5 ? ` _INBOX.r${Math.floor(next() * 1e6)}` : '';
  const payload = next() < 0.05 ? new Uint8Array(70_000).fill(0x62) : bytesOf(next, next() * 12);
  if (next() < 0.5)
    return concat([
      utf8(`MSG ${subject} ${sid}${reply} ${payload.length}\r\n`),
      payload,
      utf8('\r\n'),
    ]);
  const block = concat([utf8('NATS/1.0\r\n'), bytesOf(next, next() * 6), utf8('\r\n\r\n')]);
  const size = block.length + payload.length;
  return concat([
    utf8(`HMSG ${subject} ${sid}${reply} ${block.length} ${size}\r\n`),
    block,
    payload,
    utf8('\r\n'),
  ]);
}

const SERVER_OPS = ['PING\r\n', 'PONG\r\n', '+OK\r\n', "-ERR 'Stale Connection'\r\n"]
  .concat(['INFO {"server_id":"N1","headers":true,"max_payload":1048576}\r\n'])
  .map(utf8);

/**
 * Frames nats-server does not write, some of which the client's parser still takes (lowercase
 * ops, tabs, doubled spaces, a bare LF, junk after a payload, a size longer than what follows) and
 * some it throws on (a bad op, too few tokens, a header longer than the message).
 */
const IRREGULAR = [
  'msg a 1 2\r\nhi\r\n',
  'MSG\ta 1 2\r\nhi\r\n',
  'MSG a  1 2\r\nhi\r\n',
  'MSG a 1 2 \r\nhi\r\n',
  'MSG a 1 14 \r\nMSG b 1 1\r\nZ\r\n\r\n',
  'MSG a 1 2\nhi\r\n',
  'MSG a 1 2\r\nhiXY\r\n',
  'MSG a 1 2\r\nhi\n',
  'MSG a 1 2\r\nhi\rPING\r\n',
  'MSG a 12345678901234567 2\r\nhi\r\n',
  'MSG a 1 +2\r\nhi\r\n',
  'MSG a 1 40\r\nhi\r\n',
  'MSG a 1 999999999999\r\nhi\r\n',
  'MSG a 1\r\nhi\r\n',
  'MSG a 1 b c 2\r\nhi\r\n',
  'HMSG a 1 9 4\r\nNATS\r\n',
  'HMSG a 1 4\r\nNATS\r\n',
  'hMsG a 1 4 4\r\nNATS\r\n',
  'XYZ\r\n',
  'PINX\r\n',
  'INFOx\r\n',
  '-ERR\r\n',
].map(utf8);

/**
 * A stream of 1 to 60 ops, most of them regular frames, ending in a PONG; with the number of bytes
 * in it that are not regular frames.
 */
function stream(next: () => number, irregular: boolean): { bytes: Uint8Array; others: number } {
  const ops: Uint8Array[] = [];
  const count = 1 + Math.floor(next() * 60);
  for (let i = 0; i < count; i++) {
    const roll = next();
    if (irregular && roll < 0.04) ops.push(pick(next, IRREGULAR));
    else if (roll < 0.15) ops.push(pick(next, SERVER_OPS));
    else ops.push(regularFrame(next));
  }
  ops.push(utf8('PONG\r\n'));
  const others = ops.filter((op) => SERVER_OPS.includes(op) || IRREGULAR.includes(op));
  return { bytes: concat(ops), others: others.reduce((sum, op) => sum + op.length, 0) + 6 };
}

/** How many bytes the client parser behind a reader was given. */
function counted(protocol: Recording): () => number {
  const parser = protocol.parser;
  const parse = parser.parse.bind(parser);
  let given = 0;
  parser.parse = (chunk) => {
    given += chunk.length;
    parse(chunk);
  };
  return () => given;
}

/** `bytes` cut at random places: single bytes, a few dozen, or socket-sized reads. */
function cut(next: () => number, bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const roll = next();
    const most = roll < 0.2 ? 3 : roll < 0.5 ? 60 : roll < 0.9 ? 700 : 70_000;
    const length = 1 + Math.floor(next() * most);
    // As the socket hands them over: Buffers, views of a larger allocation.
    chunks.push(Buffer.from(bytes.subarray(at, at + length)));
    at += length;
  }
  return chunks;
}

describe('the frame reader', () => {
  it('hands the protocol handler what the client parser does, on 4,000 random streams cut at random places', () => {
    const next = random(20261203);
    let messages = 0;
    let throws = 0;
    let handedOver = 0;
    for (let n = 0; n < 4_000; n++) {
      const irregular = n % 3 === 0;
      const { bytes, others } = stream(next, irregular);
      const chunks = cut(next, bytes);
      const client = recording();
      const read = recording();
      const given = counted(read);
      expect(readFramesOf({ protocol: read })).to.equal(true);
      const clientThrew = feed(client, chunks);
      const readThrew = feed(read, chunks);
      // The client's parser hands a message over when the byte after its payload arrives, the
      // reader once both bytes of the CRLF have: a stream that ends between them (only a frame
      // whose size runs past the stream's end can) has the client one message ahead.
      const ahead =
        client.parser.state === State.MSG_END && client.log.length === read.log.length + 2;
      const where = `stream ${n}: ${JSON.stringify(Buffer.from(bytes).toString('latin1').slice(0, 400))}`;
      expect(read.log, where).to.deep.equal(ahead ? client.log.slice(0, -2) : client.log);
      expect(readThrew, `${where}: threw at chunk`).to.equal(clientThrew);
      // Regular frames are the reader's own: the client parser saw only the other ops.
      if (!irregular) expect(given(), `${where}: bytes for the client parser`).to.equal(others);
      else if (given() > others) handedOver++;
      messages += client.log.filter((entry) => (entry as unknown[]).length === 5).length;
      if (clientThrew !== undefined) throws++;
    }
    // The streams exercised what they are for.
    expect(messages).to.be.greaterThan(60_000);
    expect(throws).to.be.within(100, 1_300);
    expect(handedOver).to.be.greaterThan(300);
  });

  it('agrees with the client parser on each frame nats-server does not write, cut at every place', () => {
    const before = utf8('HMSG a.b 3 _INBOX.1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n');
    const after = utf8(
      'MSG after 4 16\r\nMSG c 5 1\r\nZ\r\n\r\nPING\r\nMSG d 6 2\r\nok\r\nPONG\r\n',
    );
    let cuts = 0;
    for (const op of [...IRREGULAR, ...SERVER_OPS]) {
      const bytes = concat([before, op, after]);
      const ways: Uint8Array[][] = [[...bytes].map((byte) => Uint8Array.of(byte))];
      for (let at = 1; at < bytes.length; at++)
        ways.push([bytes.subarray(0, at), bytes.subarray(at)]);
      for (const chunks of ways) {
        const client = recording();
        const read = recording();
        readFramesOf({ protocol: read });
        const clientThrew = feed(client, chunks);
        const where = `${JSON.stringify(Buffer.from(op).toString('latin1'))} in ${chunks.length} chunks`;
        expect(feed(read, chunks), `${where}: threw at chunk`).to.equal(clientThrew);
        expect(read.log, where).to.deep.equal(client.log);
        cuts++;
      }
    }
    expect(cuts).to.be.greaterThan(2_000);
  });

  it('reads the regular frames itself, a message spread over several chunks included', () => {
    const protocol = recording();
    const given = counted(protocol);
    readFramesOf({ protocol });
    const frame = utf8('HMSG orders.paid 7 _INBOX.r 12 14\r\nNATS/1.0\r\n\r\nhi\r\n');
    const bytes = concat([frame, frame, utf8('PING\r\n'), frame]);
    for (const chunk of cut(random(7), bytes)) protocol.parser.parse(chunk);
    expect(protocol.log).to.have.length(7);
    expect(protocol.log[4]).to.deep.equal(['PING', null]);
    expect(protocol.log[5]).to.deep.equal([
      'sid,hdr,size,subject,reply',
      7,
      12,
      14,
      hex(utf8('orders.paid')),
    ]);
    expect(given(), 'only the PING went to the client parser').to.equal(6);
  });

  it('keeps its place when the client makes a new parser, as it does on reconnect', () => {
    const protocol = recording();
    readFramesOf({ protocol });
    const reader = protocol.parser;
    protocol.parser.parse(utf8('MSG a 1 5\r\nhal'));
    protocol.parser = new Parser(protocol as never);
    expect(protocol.parser, 'the reader stays in place').to.equal(reader);
    protocol.parser.parse(utf8('PONG\r\nMSG b 2 2\r\nhi\r\n'));
    expect(protocol.log).to.deep.equal([
      ['PONG', null],
      ['sid,hdr,size,subject,reply', 2, -1, 2, hex(utf8('b'))],
      [null, hex(utf8('hi'))],
    ]);
  });

  it('leaves a connection without the fields it replaces as it was', () => {
    expect(readFramesOf({})).to.equal(false);
    expect(readFramesOf({ protocol: { parser: {} } })).to.equal(false);
    const parser = { state: 0, parse: (): void => undefined };
    const protocol = { parser };
    expect(readFramesOf({ protocol })).to.equal(false);
    expect(protocol.parser).to.equal(parser);
  });
});

describe('the frame reader on a real connection', () => {
  const cleanup = new Cleanup();
  let server: NatsServer;
  afterEach(() => cleanup.run());

  beforeEach(async () => {
    server = cleanup.add(await NatsServer.start(), (s) => s.stop());
  });

  /** Every message as the client presents it: subject, reply, header names and values, bytes. */
  const described = (m: Msg): unknown[] => {
    let block: unknown = null;
    try {
      block = m.headers ? [...m.headers].map(([k, v]) => [k, [...v]]) : null;
    } catch (err) {
      block = String(err);
    }
    return [m.subject, m.reply ?? null, block, hex(m.data)];
  };

  async function receiver(fast: boolean): Promise<{ nc: NatsConnection; got: unknown[][] }> {
    const nc = cleanup.add(await connect({ servers: server.url }), (c) => c.close());
    if (fast)
      expect(readFramesOf(nc), 'the client has the fields the reader replaces').to.equal(true);
    const got: unknown[][] = [];
    nc.subscribe('feed.>', { callback: (_err, m) => got.push(described(m)) });
    await nc.flush();
    return { nc, got };
  }

  it('gives the same messages as the client parser, hostile header blocks and a reconnect included', async () => {
    const plain = await receiver(false);
    const fast = await receiver(true);
    const raw = cleanup.add(await RawNatsConnection.open(server.url), (c) => c.close());
    const next = random(11);
    const send = (count: number): void => {
      for (let i = 0; i < count; i++) {
        const size = next() < 0.02 ? 200_000 : Math.floor(next() * 3_000);
        const payload = new Uint8Array(size).map(() => Math.floor(next() * 256));
        const reply = next() < 0.3 ? `_INBOX.${i}` : undefined;
        const roll = next();
        const block =
          roll < 0.3
            ? undefined
            : roll < 0.5
              ? 'NATS/1.0\r\nbad name: x\r\n\r\n'
              : `NATS/1.0\r\nbrigade-timeout-ms: ${i}\r\nTraceparent: 00-${i}\r\n\r\n`;
        raw.publish(`feed.${i % 7}`, { payload, reply, headers: block });
      }
    };
    send(1_500);
    await waitFor(() => plain.got.length === 1_500 && fast.got.length === 1_500, {
      timeout: 20_000,
    });
    expect(fast.got).to.deep.equal(plain.got);

    // The server goes away and comes back: the client makes a new parser for the new socket.
    await server.restart();
    await waitFor(
      async () => {
        try {
          await fast.nc.flush();
          await plain.nc.flush();
          return true;
        } catch {
          return false;
        }
      },
      { timeout: 20_000 },
    );
    const again = cleanup.add(await RawNatsConnection.open(server.url), (c) => c.close());
    const h = headers();
    h.set('x', 'y');
    fast.nc.publish('feed.own', utf8('from a client'), { headers: h });
    for (let i = 0; i < 300; i++) again.publish(`feed.${i}`, { payload: utf8(`after ${i}`) });
    await waitFor(() => plain.got.length === 1_801 && fast.got.length === 1_801, {
      timeout: 20_000,
    });
    expect(fast.got).to.deep.equal(plain.got);
    expect(
      (fast.nc as unknown as { protocol: { parser: object } }).protocol.parser,
    ).to.not.be.instanceOf(Parser);
  });

  it('is what Brigade connections read with', async () => {
    const client = cleanup.add(
      await BrigadeClient.connect({ nats: { servers: server.url }, logger: { level: 'silent' } }),
      (c) => c.close(),
    );
    const connection = (client as unknown as { transport: { connection: object } }).transport
      .connection as { protocol: { parser: object } };
    expect(connection.protocol.parser).to.not.be.instanceOf(Parser);
    const responder = cleanup.add(await connect({ servers: server.url }), (c) => c.close());
    responder.subscribe('echo', { callback: (_err, m) => m.respond(m.data) });
    await responder.flush();
    expect(await client.bus.request('echo', { dish: '비빔밥' })).to.deep.equal({ dish: '비빔밥' });
  });
});

describe('the nats client the fast paths were tested with', () => {
  it('is the one installed, pinned exactly, and nothing is said of it', () => {
    const manifest = (path: string) =>
      JSON.parse(readFileSync(path, 'utf8')) as {
        version?: string;
        dependencies?: Record<string, string>;
      };
    expect(manifest(require.resolve('nats/package.json')).version).to.equal(TESTED_NATS_VERSION);
    for (const dir of ['packages/core', 'packages/testing'])
      expect(
        manifest(join(__dirname, '..', '..', '..', dir, 'package.json')).dependencies?.['nats'],
        dir,
      ).to.equal(TESTED_NATS_VERSION);
    expect(untestedClientWarning(TESTED_NATS_VERSION, true)).to.equal(undefined);
  });

  it('says at warn level what another version or missing internals cost, and nothing of the tested one', async () => {
    expect(untestedClientWarning('2.30.0', true)).to.equal(
      `the nats client is 2.30.0, not the ${TESTED_NATS_VERSION} Brigade's fast paths were tested with: they are used, untested on this version`,
    );
    expect(untestedClientWarning(TESTED_NATS_VERSION, false)).to.include(
      "lacks the internals Brigade's fast paths use: the client's own parser and encoding are used instead (slower; nothing else is lost)",
    );
    // The tested client, whole: a Brigade connection says nothing of it.
    const server = await NatsServer.start();
    const logs = captureLogs();
    try {
      const client = await BrigadeClient.connect({
        nats: { servers: server.url },
        logger: { instance: logs.logger },
      });
      await client.close();
    } finally {
      await server.stop();
    }
    expect(logs.lines.filter((l) => String(l['msg']).includes('nats client'))).to.deep.equal([]);
  });

  it('is left alone with BRIGADE_NATS_FAST_PATH=off: its own parser reads and its own headers go out, said once', async function () {
    this.timeout(30_000);
    const server = await NatsServer.start();
    try {
      const root = join(__dirname, '..', '..', '..');
      // The built package in a process of its own: the switch is read when the module loads.
      const program = `
        const { BrigadeClient } = require('./packages/core/dist/index.js');
        const { connect } = require('nats');
        const { Parser } = require('nats/lib/nats-base-client/parser');
        (async () => {
          const client = await BrigadeClient.connect({ nats: { servers: ${JSON.stringify(server.url)} }, logger: { level: 'info' } });
          const responder = await connect({ servers: ${JSON.stringify(server.url)} });
          responder.subscribe('echo', { callback: (_e, m) => m.respond(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(m.data)), course: m.headers.get('x-course') })) });
          await responder.flush();
          const reply = await client.bus.request('echo', { dish: '비빔밥' }, { headers: { 'x-course': 'main' } });
          const parser = client.transport.connection.protocol.parser;
          console.log(JSON.stringify({ result: { reply, clientParser: parser instanceof Parser } }));
          await responder.close();
          await client.close();
        })().catch((err) => { console.error(err); process.exit(1); });`;
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', program], {
        cwd: root,
        env: { ...process.env, BRIGADE_NATS_FAST_PATH: 'off' },
      });
      const lines = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.find((l) => 'result' in l)?.['result']).to.deep.equal({
        reply: { dish: '비빔밥', course: 'main' },
        clientParser: true,
      });
      const said = lines.filter((l) => String(l['msg']).includes('BRIGADE_NATS_FAST_PATH'));
      expect(said.map((l) => [l['level'], l['msg']])).to.deep.equal([
        [
          30,
          "BRIGADE_NATS_FAST_PATH=off: the nats client's own parser, encoding and headers do all the work (slower; nothing else changes)",
        ],
      ]);
    } finally {
      await server.stop();
    }
  });
});
