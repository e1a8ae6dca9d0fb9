import { expect } from 'chai';
import { CodecError, decodeJson } from '@brigade/core';

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
