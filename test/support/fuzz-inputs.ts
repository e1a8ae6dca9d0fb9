import type { RawFrame } from '@brigade/testing';

/** A small seeded PRNG (mulberry32): the same seed gives the same inputs on every machine. */
export class Seeded {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  int(max: number): number {
    return Math.floor(this.next() * max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  bytes(length: number): Buffer {
    return Buffer.from(Array.from({ length }, () => this.int(256)));
  }

  text(length: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_.é☃ \t"\\{}[]:,'): string {
    return Array.from({ length }, () => alphabet[this.int(alphabet.length)]).join('');
  }
}

const JSON_SHAPES = [
  'null',
  'true',
  '0',
  '-1e309',
  '"text"',
  '[]',
  '{}',
  '{"customer":null,"items":null}',
  '{"customer":"x","items":[{"dish":"constructor","quantity":1}]}',
  '{"customer":"x","items":[{"dish":"__proto__","quantity":1}]}',
  '{"customer":"x","items":[{"dish":"toString","quantity":1e308}]}',
  '{"__proto__":{"polluted":true},"customer":"x","items":[]}',
  '{"id":{"$gt":""}}',
  '{"id":"../../etc/passwd"}',
  '{"id":"a b c"}',
  '{"id":"é"}',
  '{"id":null,"items":[{"quantity":1}]}',
];

/** A body: broken JSON, JSON of the wrong shape, deep, huge, random bytes or invalid UTF-8. */
export function fuzzBody(rng: Seeded): string | Buffer {
  switch (rng.int(9)) {
    case 0:
      return rng.bytes(1 + rng.int(200));
    case 1:
      return Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]); // {"\xc3(":1}
    case 2: {
      const depth = 200 + rng.int(50_000);
      return '['.repeat(depth) + ']'.repeat(rng.int(2) === 0 ? depth : 1);
    }
    case 3:
      return `{"id":"${'x'.repeat(1_000 + rng.int(100_000))}"}`;
    case 4:
      return rng.pick(JSON_SHAPES).slice(0, 1 + rng.int(40)); // often truncated
    case 5:
      return rng.text(rng.int(300));
    default:
      return rng.pick(JSON_SHAPES);
  }
}

const HEADER_NAMES = ['correlation-id', 'traceparent', 'tracestate', 'brigade-timeout-ms', 'x-odd'];
const DEADLINES = [
  '0',
  '-1',
  'soon',
  '1e309',
  'NaN',
  '2147483648',
  '4294967296',
  '9007199254740993',
  '0x10',
  '1',
];

/** A header block: valid but odd values, undecodable names, odd status lines, or no NATS/1.0 at all. */
export function fuzzHeaders(rng: Seeded): string | undefined {
  switch (rng.int(8)) {
    case 0:
      return undefined;
    case 1:
      return `NATS/1.0\r\n${rng.pick(['Bad Name', 'namé', 'a\u0001b', 'k:'])}: v\r\n\r\n`;
    case 2:
      return `NATS/1.0\r\nbrigade-timeout-ms: ${rng.pick(DEADLINES)}\r\n\r\n`;
    case 3:
      return `NATS/1.0\r\ncorrelation-id: ${'c'.repeat(1 + rng.int(60_000))}\r\n\r\n`;
    case 4:
      return `NATS/1.0\r\ntraceparent: ${rng.text(55)}\r\ntracestate: ${rng.text(rng.int(500))}\r\n\r\n`;
    case 5:
      return rng.pick([
        'NATS/1.0 503\r\n\r\n',
        'NATS/1.0 100 Idle Heartbeat\r\n\r\n',
        'XYZ\r\n\r\n',
        'NATS/1.0\r\n\r\n',
      ]);
    case 6: {
      const lines = Array.from(
        { length: 1 + rng.int(200) },
        (_, i) => `${rng.pick(HEADER_NAMES)}-${i}: ${rng.text(rng.int(40), 'abc123 ')}`,
      );
      return `NATS/1.0\r\n${lines.join('\r\n')}\r\n\r\n`;
    }
    default:
      return `NATS/1.0\r\n${rng.pick(HEADER_NAMES)}: ${rng.text(rng.int(100), 'abc123é☃ ')}\r\n\r\n`;
  }
}

/** One message to put on the wire as it is. */
export function fuzzFrame(rng: Seeded): RawFrame {
  const headers = fuzzHeaders(rng);
  return headers === undefined ? { payload: fuzzBody(rng) } : { headers, payload: fuzzBody(rng) };
}

/** A raw HTTP/1.1 request reception must answer 4xx (or close, for bytes that are no HTTP at all). */
export function fuzzHttpRequest(rng: Seeded): Buffer {
  const targets = [
    'http://[',
    '*',
    '//double',
    '/orders/%zz',
    `/orders/${'x'.repeat(5_000)}`,
    '/orders/../../etc/passwd',
    '/orders/constructor',
    '/orders?__proto__=1',
    '/\u0000',
    'orders',
    '/menu#frag',
  ];
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'BREW', 'G E T', ''];
  const types = ['application/json', 'text/plain', 'application/json; charset=latin1', ''];
  switch (rng.int(5)) {
    case 0:
      return rng.bytes(1 + rng.int(300));
    case 1:
      return Buffer.from(
        `${rng.pick(methods)} ${rng.pick(targets)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
        'latin1',
      );
    default: {
      const body = fuzzBody(rng);
      const length = Buffer.byteLength(body);
      const type = rng.pick(types);
      return Buffer.concat([
        Buffer.from(
          `POST /orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${type ? `Content-Type: ${type}\r\n` : ''}Content-Length: ${length}\r\n\r\n`,
        ),
        Buffer.isBuffer(body) ? body : Buffer.from(body),
      ]);
    }
  }
}

/** Traces of a stack or of this machine's files in what went over the wire. */
export const LEAKS =
  /\n\s*at \S|\bat [\w.<>]+ \(|\.[jt]s:\d+|node_modules|\/work\/|\/home\/|\/usr\/(lib|src)\//;
