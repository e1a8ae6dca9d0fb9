import { expect } from 'chai';
import { Match, MsgHdrsImpl, connect } from 'nats';
import { BrigadeClient, InvalidOptionError } from '@brigade/core';
import {
  headerBlockText,
  headerFault,
  IRREGULAR,
  readHeader,
  scanHeaderBlock,
} from '@brigade/core/internal';
import { Cleanup, NatsServer, RawNatsConnection } from '@brigade/testing';
import { random } from './support/random';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const concat = (parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/**
 * What header blocks are made of, hostile pieces included: lone CR and LF, controls, DEL, bytes
 * that are not UTF-8, a BOM, a no-break space (whitespace to `trim`), colons and spaces.
 */
const PIECES: Uint8Array[] = [
  ...['NATS/1.0', '\r\n', '\r\n', '\r\n', ': ', ':', ' ', '\t', 'a', 'B', '-', '!', '~', '5000'],
  ...['traceparent', 'Brigade-Timeout-Ms', 'brigade-timeout-ms', 'x', 'é', '비빔밥', '\r', '\n'],
].map(utf8);
PIECES.push(
  Uint8Array.of(0x00),
  Uint8Array.of(0x7f),
  Uint8Array.of(0xff),
  Uint8Array.of(0xc3),
  Uint8Array.of(0xc2, 0xa0),
  Uint8Array.of(0xef, 0xbb, 0xbf),
);
const NAMES = ['traceparent', 'BRIGADE-timeout-ms', 'x', 'a', 'B', '', 'aB-', 'é', '\u212a'];

function block(next: () => number): Uint8Array {
  const parts = [utf8('NATS/1.0\r\n')];
  const count = Math.floor(next() * 14);
  for (let i = 0; i < count; i++) parts.push(PIECES[Math.floor(next() * PIECES.length)]!);
  if (next() < 0.8) parts.push(utf8('\r\n\r\n'));
  return concat(parts);
}

/** The client's own answer for `name`, as Brigade reports it: empty as `undefined`. */
function clientReads(bytes: Uint8Array, name: string): string | undefined {
  return MsgHdrsImpl.decode(bytes).get(name, Match.IgnoreCase) || undefined;
}

describe('header blocks read from the bytes received', () => {
  it('agree with the client on 30,000 random blocks: each regular one decodes, every name reads the same', () => {
    const next = random(20261202);
    let regular = 0;
    let found = 0;
    let refused = 0;
    for (let i = 0; i < 30_000; i++) {
      const bytes = block(next);
      const verdict = scanHeaderBlock(bytes, bytes.length);
      let decodes = true;
      try {
        MsgHdrsImpl.decode(bytes);
      } catch {
        decodes = false;
        refused++;
      }
      const where = JSON.stringify(Buffer.from(bytes).toString('latin1'));
      if (verdict === IRREGULAR) continue;
      regular++;
      expect(decodes, `a block read as regular must decode: ${where}`).to.equal(true);
      for (const name of NAMES) {
        const read = scanHeaderBlock(bytes, bytes.length, name.toLowerCase());
        expect(
          read === IRREGULAR ? 'irregular' : read || undefined,
          `${name} in ${where}`,
        ).to.equal(clientReads(bytes, name));
        if (read) found++;
      }
    }
    // The mix is meant to exercise both ways: plenty read here, plenty left to the client, some
    // the client refuses (and so must not be read here).
    expect(regular).to.be.greaterThan(5_000);
    expect(30_000 - regular).to.be.greaterThan(5_000);
    expect(refused).to.be.greaterThan(1_000);
    expect(found).to.be.greaterThan(1_000);
  });

  it('stops at the length given, never reading the body behind the block', () => {
    const bytes = utf8('NATS/1.0\r\nx: 1\r\n\r\nx: 2\r\n');
    const end = 'NATS/1.0\r\nx: 1\r\n\r\n'.length;
    expect(scanHeaderBlock(bytes, end, 'x')).to.equal('1');
    expect(scanHeaderBlock(bytes, end - 1, 'x')).to.equal(IRREGULAR); // a lone CR at the end
    expect(scanHeaderBlock(utf8('NATS/1.0\r\ny: 1\r\n\r\nx: 2'), end, 'x')).to.equal(undefined);
  });
});

describe('header blocks written for what Brigade sends', () => {
  it('are what the client writes from the same names and values', () => {
    const init = {
      'correlation-id': '  c-1 ',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'X-Many': ['one', 'two ', ' 비빔밥'],
      skipped: undefined as unknown as string,
    };
    const client = new MsgHdrsImpl();
    client.set('correlation-id', init['correlation-id']);
    client.set('traceparent', init.traceparent);
    for (const v of init['X-Many']) client.append('X-Many', v);
    expect(headerBlockText(init)).to.equal(client.toString());
    expect(headerBlockText({})).to.equal(undefined);
    expect(headerBlockText({ skipped: undefined as unknown as string })).to.equal(undefined);
  });

  for (const [what, init, reason] of [
    ['an empty name', { '': 'x' }, /cannot be empty/],
    ['a space in a name', { 'bad name': 'x' }, /'bad name' holds " "/],
    ['a colon in a name', { 'a:b': 'x' }, /'a:b' holds ":"/],
    ['a non-ASCII name', { namé: 'x' }, /'namé' holds "é"/],
    ['a line break in a value', { a: 'x\r\nInjected: yes' }, /line break/],
    ['a lone LF in a value', { a: ['ok', 'x\ny'] }, /line break/],
    ['a value that is not text', { a: 5 as unknown as string }, /must be a string .*got number/],
    ['a value in a list that is not text', { a: ['x', null as unknown as string] }, /got null/],
  ] as const) {
    it(`refuse ${what} with a clear error`, () => {
      expect(() => headerBlockText(init)).to.throw(InvalidOptionError, reason);
    });
  }
});

describe('header blocks of messages from a real server @integration', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('are read from the bytes the installed client received, irregular ones left to its decoding', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const nc = cleanup.add(await connect({ servers: server.url }), (c) => c.close());
    const raw = cleanup.add(await RawNatsConnection.open(server.url), (c) => c.close());
    const sub = nc.subscribe('blocks', { max: 3 });
    await nc.flush();
    raw.publish('blocks', {
      headers: 'NATS/1.0\r\nTraceParent: t-1\r\nx: \r\n\r\n',
      payload: '{}',
    });
    raw.publish('blocks', { headers: 'NATS/1.0\r\nBad Name: x\r\n\r\n', payload: '{}' });
    raw.publish('blocks', { headers: 'NATS/1.0\r\nlone: a\nb\r\n\r\n', payload: '{}' });
    const received = [];
    for await (const msg of sub) received.push(msg);
    const [plain, spaced, lone] = received;
    expect(headerFault(plain!)).to.equal(undefined);
    expect(readHeader(plain!, 'traceparent')).to.equal('t-1');
    expect(readHeader(plain!, 'x')).to.equal(undefined);
    expect(plain!.headers?.get('TraceParent')).to.equal('t-1');
    // The client refuses these: Brigade reports the fault, never a throw.
    expect(headerFault(spaced!)).to.match(/malformed headers/);
    expect(readHeader(spaced!, 'bad name')).to.equal(undefined);
    expect(headerFault(lone!)).to.match(/malformed headers/);
  });

  it('are refused by the Bus before anything is sent when a name or value would break them', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const nc = cleanup.add(await connect({ servers: server.url }), (c) => c.close());
    const client = cleanup.add(
      await BrigadeClient.connect({ nats: { servers: server.url }, logger: { level: 'silent' } }),
      (c) => c.close(),
    );
    const seen: string[] = [];
    nc.subscribe('refused.>', { callback: (_e, m) => seen.push(m.subject) });
    await nc.flush();
    const spaced = await client.bus
      .publish('refused.event', {}, { headers: { 'x table': '7' } })
      .catch((e: unknown) => e);
    expect(spaced).to.be.instanceOf(InvalidOptionError);
    expect((spaced as Error).message).to.match(/'x table' holds " "/);
    const injected = await client.bus
      .request('refused.request', {}, { headers: { note: 'a\r\nInjected: 1' } })
      .catch((e: unknown) => e);
    expect(injected).to.be.instanceOf(InvalidOptionError);
    expect((injected as Error).message).to.match(/line break/);
    await client.bus.publish('refused.fine', {}, { headers: { 'x-table': ' 7 ' } });
    await client.bus.flush();
    await nc.flush();
    expect(seen).to.deep.equal(['refused.fine']);
  });
});
