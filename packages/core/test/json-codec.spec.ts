import { expect } from 'chai';
import { CodecError, decodeJson } from '@brigade/core';
import { jsonCodec } from '@brigade/core/internal';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

describe('decodeJson, the codec of every message', () => {
  it('takes JSON nested 128 deep, and refuses 129 with the reason', () => {
    expect(() => decodeJson(bytes(nested(128)))).to.not.throw();
    expect(() => decodeJson(bytes(nested(129))))
      .to.throw(CodecError)
      .with.property('message', 'the body is JSON nested deeper than 128 levels');
  });

  it('takes a large body with many arrays and objects side by side, however many', () => {
    const lines = Array.from({ length: 5_000 }, (_, i) => ({ dish: `d${i}`, tags: [i] }));
    expect(decodeJson(bytes(JSON.stringify({ lines })))).to.deep.equal({ lines });
  });

  it('takes a large body with few brackets without scanning it, and still refuses invalid UTF-8', () => {
    const fill = 'x'.repeat(65_536);
    expect(decodeJson(bytes(JSON.stringify({ fill })))).to.deep.equal({ fill });
    const broken = bytes(JSON.stringify({ fill }));
    broken[10] = 0xff;
    expect(() => decodeJson(broken)).to.throw(CodecError, /not valid JSON/);
  });
});

describe('jsonCodec.encode, the body of every message sent', () => {
  it('encodes like TextEncoder, each body its own bytes, across slabs and for large bodies', () => {
    const values = Array.from({ length: 2_000 }, (_, i) => ({
      id: i,
      // Multi-byte UTF-8 (Korean, emoji), and lengths around the slab's limit for one body.
      text: i % 3 === 0 ? '비빔밥 🍲'.repeat(i % 90) : 'x'.repeat(i % 2_100),
    }));
    values.push({ id: -1, text: 'y'.repeat(100_000) });
    const bodies = values.map((value) => jsonCodec.encode(value));
    bodies.forEach((body, i) => {
      expect(body).to.be.instanceOf(Uint8Array);
      expect(Buffer.from(body).equals(bytes(JSON.stringify(values[i])))).to.equal(true);
    });
    // Writing into one body leaves every other as it was.
    bodies.forEach((body, i) => body.fill(i % 251));
    bodies.forEach((body, i) => expect(body.every((byte) => byte === i % 251)).to.equal(true));
    const again = values.map((value) => jsonCodec.encode(value));
    again.forEach((body, i) => expect(decodeJson(body)).to.deep.equal(values[i]));
  });
});
