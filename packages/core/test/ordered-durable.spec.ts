import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { headers as createHeaders } from 'nats';
import { DefinitionError, Service, Subscribe, type MessageContext } from '@brigade/core';
import { startApp, waitFor } from '@brigade/testing';
import { serverPerTest } from './support/server-per-test';
import { exploreServices } from '@brigade/core/internal';

const encoder = new TextEncoder();

/** What a handler saw: per key, the messages in the order they ran; and how many ran at once. */
class Recorder {
  readonly order = new Map<string, number[]>();
  private readonly running = new Map<string, number>();
  overlapsWithinKey = 0;
  maxAtOnce = 0;
  private atOnce = 0;

  async run(key: string, n: number): Promise<void> {
    this.atOnce++;
    this.maxAtOnce = Math.max(this.maxAtOnce, this.atOnce);
    const mine = (this.running.get(key) ?? 0) + 1;
    this.running.set(key, mine);
    if (mine > 1) this.overlapsWithinKey++;
    await sleep(1 + (n % 4) * 3);
    this.running.set(key, (this.running.get(key) ?? 1) - 1);
    this.atOnce--;
    this.order.set(key, [...(this.order.get(key) ?? []), n]);
  }

  get handled(): number {
    let total = 0;
    for (const list of this.order.values()) total += list.length;
    return total;
  }
}

describe('ordered durable handlers @integration', () => {
  const bed = serverPerTest({ jetstream: true });
  const KEYS = ['a', 'b', 'c', 'd'];
  const PER_KEY = 25;

  /** Every message ran, one key's one after another and in order, several keys at once. */
  async function expectOrdered(seen: Recorder): Promise<void> {
    await waitFor(() => seen.handled === KEYS.length * PER_KEY, { timeout: 15_000 });
    expect(seen.overlapsWithinKey).to.equal(0);
    for (const key of KEYS) {
      expect(seen.order.get(key), key).to.deep.equal(Array.from({ length: PER_KEY }, (_, i) => i));
    }
    expect(seen.maxAtOnce).to.be.greaterThan(1);
  }

  it('runs the messages of one header key one after another, in order, and keys side by side', async () => {
    const seen = new Recorder();
    @Service({ name: 'ledger' })
    class Ledger {
      @Subscribe('ledger.entry', {
        durable: { stream: 'LEDGER', orderBy: { header: 'account' } },
        concurrency: 8,
      })
      async entry(body: { n: number }, ctx: MessageContext): Promise<void> {
        await seen.run(ctx.headers.get('account') as string, body.n);
      }
    }
    await startApp(bed.server, {
      services: [Ledger],
      streams: [{ name: 'LEDGER', subjects: ['ledger.>'] }],
    }).then((app) => bed.cleanup.add(app, (a) => a.stop()));
    const js = bed.client.jetstream();
    for (let n = 0; n < PER_KEY; n++) {
      for (const key of KEYS) {
        const hdrs = createHeaders();
        hdrs.set('account', key);
        await js.publish('ledger.entry', encoder.encode(JSON.stringify({ n })), { headers: hdrs });
      }
    }
    await expectOrdered(seen);
  });

  it('keys by a subject token', async () => {
    const seen = new Recorder();
    @Service({ name: 'tracker' })
    class Tracker {
      @Subscribe('track.*.*', {
        durable: { stream: 'TRACK', orderBy: { subjectToken: 2 } },
        concurrency: 8,
      })
      async step(body: { n: number }, ctx: MessageContext): Promise<void> {
        await seen.run(ctx.subject.split('.')[2] as string, body.n);
      }
    }
    await startApp(bed.server, {
      services: [Tracker],
      streams: [{ name: 'TRACK', subjects: ['track.>'] }],
    }).then((app) => bed.cleanup.add(app, (a) => a.stop()));
    const js = bed.client.jetstream();
    for (let n = 0; n < PER_KEY; n++) {
      for (const key of KEYS) {
        const status = n % 2 === 0 ? 'cooking' : 'cooked';
        await js.publish(`track.${status}.${key}`, encoder.encode(JSON.stringify({ n })));
      }
    }
    await expectOrdered(seen);
  });
});

describe('orderBy validation', () => {
  function define(orderBy: unknown, subject = 'a.b.c') {
    @Service({ name: 'x' })
    class X {
      @Subscribe(subject, { durable: { stream: 'S', orderBy: orderBy as never } })
      handle(): void {}
    }
    return () => exploreServices([X]);
  }

  it('takes a header or a subject token', () => {
    const [service] = define({ header: 'order-id' })();
    expect(service?.handlers[0]?.durable?.orderBy).to.deep.equal({
      kind: 'header',
      name: 'order-id',
    });
    const [other] = define({ subjectToken: 2 })();
    expect(other?.handlers[0]?.durable?.orderBy).to.deep.equal({ kind: 'subject-token', index: 2 });
  });

  it('names what is wrong', () => {
    expect(define({})).to.throw(DefinitionError, 'give { subjectToken: n } or { header: name }');
    expect(define({ header: 'a', subjectToken: 1 })).to.throw(DefinitionError, 'give {');
    expect(define({ header: 'bad name' })).to.throw(DefinitionError, 'printable ASCII');
    expect(define({ subjectToken: 3 })).to.throw(DefinitionError, "'a.b.c' has only 3 tokens");
    expect(define({ subjectToken: -1 })).to.throw(DefinitionError, 'index of a subject token');
    expect(define({ subjectToken: 5 }, 'a.>')()).to.have.length(1);
  });
});
