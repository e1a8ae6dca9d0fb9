import { expect } from 'chai';
import { InvalidOptionError } from '@brigade/core';
import { defineStreams, subjectCovers } from '@brigade/core/internal';

describe('stream declarations', () => {
  it('resolves defaults and durations', () => {
    const [orders] = defineStreams([
      { name: 'ORDERS', subjects: ['orders.>'], maxAge: '7d', maxMsgs: 1000 },
    ]);
    expect(orders).to.deep.equal({
      name: 'ORDERS',
      subjects: ['orders.>'],
      description: '',
      maxAgeMs: 7 * 86_400_000,
      maxMsgs: 1000,
      maxBytes: -1,
      storage: 'file',
      duplicateWindowMs: 120_000,
      replicas: 1,
      retention: 'limits',
      allowMsgTtl: false,
      subjectDeleteMarkerTtlMs: 0,
      schedules: 'off',
    });
  });

  it('takes schedules always, where the server has them, or never; refuses anything else', () => {
    const [always, ifSupported, never] = defineStreams([
      { name: 'A', subjects: ['a'], schedules: true },
      { name: 'B', subjects: ['b'], schedules: 'if-supported' },
      { name: 'C', subjects: ['c'], schedules: false },
    ]);
    expect([always?.schedules, ifSupported?.schedules, never?.schedules]).to.deep.equal([
      'on',
      'if-supported',
      'off',
    ]);
    expect(() =>
      defineStreams([{ name: 'D', subjects: ['d'], schedules: 'yes' as never }]),
    ).to.throw(
      InvalidOptionError,
      "streams[0] ('D'): invalid schedules: it is true, false or 'if-supported', got yes",
    );
  });

  it('takes per-message TTL and subject delete markers, markers implying TTL', () => {
    const [ttl, markers] = defineStreams([
      { name: 'A', subjects: ['a'], allowMsgTtl: true },
      { name: 'B', subjects: ['b'], subjectDeleteMarkerTtl: '15m' },
    ]);
    expect(ttl).to.include({ allowMsgTtl: true, subjectDeleteMarkerTtlMs: 0 });
    expect(markers).to.include({ allowMsgTtl: true, subjectDeleteMarkerTtlMs: 900_000 });
  });

  it('keeps the duplicate window within a short maxAge', () => {
    expect(
      defineStreams([{ name: 'S', subjects: ['s'], maxAge: '30s' }])[0]?.duplicateWindowMs,
    ).to.equal(30_000);
  });

  const bad: [string, object, string][] = [
    ['a bad name', { name: 'a.b', subjects: ['x'] }, "streams[0] ('a.b'): invalid name"],
    ['no subjects', { name: 'S', subjects: [] }, 'invalid subjects'],
    ['a bad subject', { name: 'S', subjects: ['a..b'] }, "invalid subject 'a..b'"],
    ['a bad maxAge', { name: 'S', subjects: ['x'], maxAge: 'forever' }, 'invalid maxAge'],
    ['a bad storage', { name: 'S', subjects: ['x'], storage: 'disk' }, 'invalid storage'],
    [
      'a window past maxAge',
      { name: 'S', subjects: ['x'], maxAge: '1m', duplicateWindow: '2m' },
      'invalid duplicateWindow',
    ],
    [
      'allowMsgTtl that is no boolean',
      { name: 'S', subjects: ['x'], allowMsgTtl: 'yes' },
      'invalid allowMsgTtl: it is true or false, got yes',
    ],
    [
      'markers kept under a second',
      { name: 'S', subjects: ['x'], subjectDeleteMarkerTtl: '500ms' },
      'invalid subjectDeleteMarkerTtl: it is at least 1 second',
    ],
  ];
  for (const [what, declaration, fragment] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => defineStreams([declaration as never])).to.throw(InvalidOptionError, fragment);
    });
  }

  it('rejects a stream declared twice', () => {
    expect(() =>
      defineStreams([
        { name: 'S', subjects: ['a'] },
        { name: 'S', subjects: ['b'] },
      ]),
    ).to.throw("'S' is declared twice");
  });

  it('tells whether a stream subject covers a filter', () => {
    const cases: [string, string, boolean][] = [
      ['orders.>', 'orders.placed', true],
      ['orders.>', 'orders.*.paid', true],
      ['orders.>', 'orders', false],
      ['orders.*', 'orders.placed', true],
      ['orders.*', 'orders.placed.late', false],
      ['orders.*', 'orders.>', false],
      ['orders.placed', 'orders.placed', true],
      ['orders.placed', 'orders.*', false],
      ['>', 'anything.at.all', true],
    ];
    for (const [pattern, filter, covered] of cases)
      expect(subjectCovers(pattern, filter), `${pattern} ⊇ ${filter}`).to.equal(covered);
  });
});
