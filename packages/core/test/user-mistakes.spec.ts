import { expect } from 'chai';
import { headers as createHeaders, JSONCodec, type Msg } from 'nats';
import {
  Endpoint,
  NoRespondersError,
  NotFoundError,
  REQUEST_TIMEOUT,
  Service,
  Subscribe,
  type Invocation,
  type MessageContext,
  type Middleware,
  type OutgoingMiddleware,
} from '@brigade/core';
import { startApp, waitFor } from '@brigade/testing';
import { brigadeClient, serverPerTest } from './support/server-per-test';
import { captureLogs } from './support/log-capture';

const json = JSONCodec();

/**
 * The mistake the type refuses: `next()` called and neither returned nor awaited. Cast, as a
 * JavaScript user's (or an `any`-typed one's) would slip through.
 */
const forgetful = ((_invocation: Invocation, next: () => Promise<unknown>) => {
  void next();
}) as unknown as Middleware;

/** The same mistake in an async middleware, which no type can see. */
const forgetfulAsync: Middleware = async (_invocation, next) => {
  await Promise.resolve();
  void next();
};

/** The error code and message of a reply, or 'ok'. */
function outcome(reply: Msg): string {
  const code = reply.headers?.get('Nats-Service-Error-Code');
  return code ? `${code} ${reply.headers?.get('Nats-Service-Error') ?? ''}` : 'ok';
}

/** A promise the test settles: what a handler awaiting a lost lock or an endless fetch waits on. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('mistakes in user code never take a service down @integration', () => {
  const bed = serverPerTest({ jetstream: true });
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    rejections.push(reason);
  };
  // Mocha itself would fail the run on one; here each test also proves it saw none.
  beforeEach(() => {
    rejections.length = 0;
    process.on('unhandledRejection', onRejection);
  });
  afterEach(() => {
    process.off('unhandledRejection', onRejection);
  });

  /** Waits a little longer than the handlers need, then checks nothing was left unhandled. */
  async function noUnhandledRejections(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(rejections.map(String)).to.deep.equal([]);
  }

  describe('a middleware that calls next() without returning it', () => {
    it('gives the caller the handler’s failure, counted and logged once, and rejects nothing unhandled', async () => {
      const logs = captureLogs();
      @Service({ name: 'careless' })
      class Careless {
        @Endpoint('careless.throws', { middleware: [forgetful] })
        throws(): string {
          throw new Error('the handler broke');
        }

        @Endpoint('careless.later', { middleware: [forgetfulAsync] })
        async later(): Promise<string> {
          await new Promise((resolve) => setTimeout(resolve, 10));
          throw new TypeError('broke after an await');
        }

        @Endpoint('careless.fine', { middleware: [forgetful] })
        async fine(): Promise<string> {
          await new Promise((resolve) => setTimeout(resolve, 10));
          return 'a result nobody returned';
        }
      }
      const app = bed.cleanup.add(
        await startApp(bed.server, { services: [Careless], logger: { instance: logs.logger } }),
        (a) => a.stop(),
      );
      expect(outcome(await bed.client.request('careless.throws', json.encode(1)))).to.equal(
        '500 internal error',
      );
      expect(outcome(await bed.client.request('careless.later', json.encode(1)))).to.equal(
        '500 internal error',
      );
      // The handler succeeded: the caller gets what the middleware returned (nothing), once
      // the handler finished.
      const fine = await bed.client.request('careless.fine', json.encode(1));
      expect(outcome(fine)).to.equal('ok');
      expect(fine.data).to.have.length(0);
      const stats = Object.fromEntries(app.stats().map((s) => [s.handler.name, s.stats]));
      expect(stats['throws']).to.include({ numRequests: 1, numErrors: 1 });
      expect(stats['later']).to.include({ numRequests: 1, numErrors: 1 });
      expect(stats['fine']).to.include({ numRequests: 1, numErrors: 0 });
      const lines = logs.lines.filter((l) => String(l['msg']).includes('behind a middleware'));
      expect(lines.map((l) => l['msg'])).to.deep.equal([
        "careless#throws on 'careless.throws' failed behind a middleware that called next() without returning or awaiting it: Error: the handler broke; more like it are summed up every 10 s",
        "careless#later on 'careless.later' failed behind a middleware that called next() without returning or awaiting it: TypeError: broke after an await; more like it are summed up every 10 s",
      ]);
      expect((lines[0]?.['err'] as { stack?: string }).stack).to.include('the handler broke');
      await noUnhandledRejections();
    });

    it('gives the caller what the middleware returned while the handler behind it failed, and counts the failure', async () => {
      const answering = ((_invocation: Invocation, next: () => Promise<unknown>) => {
        void next();
        return 'from the middleware';
      }) as Middleware;
      @Service({ name: 'answering' })
      class Answering {
        @Endpoint('answering.ask', { middleware: [answering] })
        async ask(): Promise<string> {
          await Promise.resolve();
          throw new Error('behind the answer');
        }
      }
      const app = bed.cleanup.add(await startApp(bed.server, { services: [Answering] }), (a) =>
        a.stop(),
      );
      const reply = await bed.client.request('answering.ask', json.encode(1));
      expect(outcome(reply)).to.equal('ok');
      expect(json.decode(reply.data)).to.equal('from the middleware');
      expect(app.stats()[0]?.stats).to.include({ numRequests: 1, numErrors: 1 });
      await noUnhandledRejections();
    });

    it('counts an event handler failing after an await, and retries a durable one instead of acking it', async () => {
      const deliveries: number[] = [];
      @Service({ name: 'eventful', middleware: [forgetful] })
      class Eventful {
        @Subscribe('eventful.told')
        async told(): Promise<void> {
          await Promise.resolve();
          throw new Error('event failed');
        }

        @Subscribe('kept.told', {
          durable: { stream: 'KEPT', maxDeliver: 2, backoff: [50] },
        })
        async kept(_body: unknown, ctx: MessageContext): Promise<void> {
          deliveries.push(ctx.deliveryCount ?? 0);
          await Promise.resolve();
          throw new Error('durable failed');
        }
      }
      const app = bed.cleanup.add(
        await startApp(bed.server, {
          services: [Eventful],
          streams: [{ name: 'KEPT', subjects: ['kept.>'] }],
        }),
        (a) => a.stop(),
      );
      bed.client.publish('eventful.told', json.encode({}));
      await app.bus.publish('kept.told', {}, { durable: true });
      await waitFor(async () => (await app.deadLetters.list()).length === 1, {
        message: 'the durable message retried, then dead-lettered',
      });
      expect(deliveries).to.deep.equal([1, 2]);
      const [letter] = await app.deadLetters.list();
      expect(letter?.reason).to.equal('Error: durable failed');
      const told = app.stats().find((s) => s.handler.name === 'told')?.stats;
      expect(told).to.include({ numRequests: 1, numErrors: 1 });
      await noUnhandledRejections();
    });

    it('fails a send behind an outgoing middleware that forgot to return, with the send’s own error', async () => {
      const forgetfulOut = ((_message: unknown, next: () => Promise<unknown>) => {
        void next();
      }) as unknown as OutgoingMiddleware;
      const client = await brigadeClient(bed, { outgoing: [forgetfulOut], requestTimeoutMs: 500 });
      const failure = await client.bus.request('nobody.listens', {}).catch((e: unknown) => e);
      expect(failure).to.be.instanceOf(NoRespondersError);
      // A send that worked is still a send that worked.
      const sub = bed.client.subscribe('somebody.listens', { max: 1 });
      await bed.client.flush();
      await client.bus.publish('somebody.listens', { n: 1 });
      for await (const m of sub) expect(json.decode(m.data)).to.deep.equal({ n: 1 });
      await noUnhandledRejections();
    });
  });

  describe('failures in floods', () => {
    it('logs 10,000 failing events as a few lines: the first of each kind in full, then a summary', async () => {
      const logs = captureLogs();
      @Service({ name: 'flood' })
      class Flood {
        @Subscribe('flood.crash')
        crash(n: number): void {
          if (n % 2 === 0) throw new RangeError(`crash ${n}`);
          throw { code: 7, n };
        }

        @Subscribe('flood.refused')
        refused(n: number): void {
          throw new NotFoundError(`no such thing ${n}`);
        }
      }
      const app = await startApp(bed.server, {
        services: [Flood],
        logger: { instance: logs.logger },
      });
      for (let n = 0; n < 10_000; n++) {
        bed.client.publish('flood.crash', json.encode(n));
        bed.client.publish('flood.refused', json.encode(n));
      }
      await waitFor(() => app.stats().every((s) => s.stats.numRequests === 10_000), {
        timeout: 30_000,
        message: 'every event handled',
      });
      await app.stop();
      const about = (handler: string) =>
        logs.lines.filter((l) => String(l['msg']).startsWith(`flood#${handler} on`));
      const crash = about('crash');
      expect(crash.map((l) => l['msg'])).to.deep.equal([
        "flood#crash on 'flood.crash' failed: RangeError: crash 0; more like it are summed up every 10 s",
        'flood#crash on \'flood.crash\' failed: {"code":7,"n":1}; more like it are summed up every 10 s',
        "flood#crash on 'flood.crash': 9998 more like the above in the last 10 s (RangeError ×4999, object ×4999)",
      ]);
      expect(crash[1]).to.include({ thrown: '{"code":7,"n":1}' });
      expect(crash[2]).to.deep.include({
        count: 9998,
        kinds: { RangeError: 4999, object: 4999 },
        last: '{"code":7,"n":9999}',
      });
      const refused = about('refused');
      expect(refused.map((l) => [l['level'], l['msg']])).to.deep.equal([
        [
          30,
          "flood#refused on 'flood.refused' answered 404; more like it are summed up every 10 s",
        ],
        [
          30,
          "flood#refused on 'flood.refused': 9999 more like the above in the last 10 s (404 ×9999)",
        ],
      ]);
      expect(refused[0]).to.include({ reason: 'no such thing 0' });
      expect(refused[0]).to.not.have.property('err'); // an answer chosen, not a stack trace
    });
  });

  describe('handlers that never settle', () => {
    /** A raw request carrying a Brigade deadline, waited for much longer than it. */
    function request(subject: string, deadlineMs?: number): Promise<Msg> {
      const headers = createHeaders();
      if (deadlineMs !== undefined) headers.set(REQUEST_TIMEOUT, String(deadlineMs));
      return bed.client.request(subject, json.encode(0), { timeout: 10_000, headers });
    }

    it('answers 408 at each deadline, running or waiting, gives up on handlers past their grace, and recovers', async () => {
      const logs = captureLogs();
      const stuck = gate();
      let hang = true;
      let running = 0;
      @Service({ name: 'deaf' })
      class Deaf {
        @Endpoint('deaf.ask', { concurrency: 2, timeout: '400ms', timeoutGrace: '300ms' })
        async ask(_body: unknown, ctx: MessageContext): Promise<string> {
          if (!hang) return 'served';
          running++;
          try {
            await stuck.opened; // ignores ctx.signal, as a lost lock would
            return `late, aborted: ${ctx.signal.aborted}`;
          } finally {
            running--;
          }
        }
      }
      const app = bed.cleanup.add(
        await startApp(bed.server, {
          services: [Deaf],
          logger: { instance: logs.logger },
          ops: { port: 0, host: '127.0.0.1' },
        }),
        (a) => a.stop(),
      );
      // Six requests with their own deadline on two slots: four wait, and every one hears 408
      // at its own deadline, not when a slot frees.
      const began = performance.now();
      const first = await Promise.all(
        Array.from({ length: 6 }, () =>
          request('deaf.ask', 250).then((r) => [outcome(r), performance.now() - began] as const),
        ),
      );
      for (const [answer, ms] of first) {
        expect(answer).to.match(/^408 /);
        expect(ms).to.be.within(240, 900);
      }
      expect(first.filter(([a]) => a === "408 the caller's deadline passed")).to.have.length(2);
      expect(
        first.filter(([a]) => a === '408 the request waited past its deadline and was not handled'),
      ).to.have.length(4);
      // A plain NATS request brings no deadline: the handler's timeout is its deadline.
      const plain = await request('deaf.ask');
      expect(outcome(plain)).to.equal("408 no answer within the handler's timeout of 400 ms");
      // Past the grace the hanging handlers are given up on; new requests are served.
      await waitFor(() => app.stats()[0]?.stats.abandoned === 3, {
        message: 'the hanging handlers given up on',
      });
      hang = false;
      expect(outcome(await request('deaf.ask', 1_000))).to.equal('ok');
      expect(running).to.be.at.least(2); // they still run: a handler cannot be stopped
      const warned = logs.lines.filter((l) => String(l['msg']).includes('after its deadline'));
      expect(warned).to.have.length(1);
      expect(String(warned[0]?.['msg'])).to.match(
        /^deaf#ask on 'deaf.ask' is still running \d+ ms after its deadline, 1 such running: its slot goes to the next message/,
      );
      const srv = (await bed.client.request('$SRV.STATS.deaf')).json<{
        endpoints: { num_requests: number; num_errors: number; data?: Record<string, number> }[];
      }>().endpoints[0];
      expect(srv).to.deep.include({ num_requests: 8, num_errors: 7 });
      expect(srv?.data).to.deep.equal({ abandoned: 3, abandoned_running: 3 });
      const metrics = await app.metrics();
      expect(metrics).to.include('brigade_handler_abandoned_total{service="deaf",handler="ask"} 3');
      expect(metrics).to.include(
        'brigade_handler_abandoned_running{service="deaf",handler="ask"} 3',
      );
      // They settle at last: nothing more is sent or counted.
      const inbox = bed.client.subscribe('_INBOX.>');
      stuck.open();
      await waitFor(() => running === 0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(inbox.getProcessed()).to.equal(0);
      inbox.unsubscribe();
      expect(app.stats()[0]?.stats).to.include({
        numRequests: 8,
        numErrors: 7,
        abandoned: 3,
        abandonedRunning: 0,
      });
      await noUnhandledRejections();
    });

    it('gives a durable message that hangs back to the server as a failed attempt, dead-letters it after the last, and keeps pulling', async () => {
      const handled: string[] = [];
      const starts: string[] = [];
      @Service({ name: 'slowpoke' })
      class Slowpoke {
        @Subscribe('jobs.*', {
          concurrency: 1,
          timeout: '300ms',
          timeoutGrace: '100ms',
          durable: { stream: 'JOBS', maxDeliver: 2, backoff: [50] },
        })
        async run(job: string, ctx: MessageContext): Promise<void> {
          starts.push(`${job}#${ctx.deliveryCount ?? 0}`);
          if (job === 'hangs') await new Promise(() => undefined);
          handled.push(job);
        }
      }
      const app = bed.cleanup.add(
        await startApp(bed.server, {
          services: [Slowpoke],
          streams: [{ name: 'JOBS', subjects: ['jobs.>'] }],
        }),
        (a) => a.stop(),
      );
      await app.bus.publish('jobs.a', 'hangs', { durable: true });
      await app.bus.publish('jobs.b', 'quick', { durable: true });
      await waitFor(async () => (await app.deadLetters.list()).length === 1, {
        message: 'the hanging job dead-lettered',
      });
      // Its slot freed at the end of its grace, the only slot: the consumer pulls on.
      await waitFor(() => handled.length === 1, { message: 'the next job handled' });
      expect(handled).to.deep.equal(['quick']);
      expect(starts.filter((s) => s.startsWith('hangs'))).to.deep.equal(['hangs#1', 'hangs#2']);
      const [letter] = await app.deadLetters.list();
      expect(letter).to.include({
        reason: 'DeadlineExceededError: the handler ran past its timeout of 300 ms',
        code: 408,
        attempts: 2,
      });
      await waitFor(() => app.stats()[0]?.stats.abandoned === 2);
      expect(app.stats()[0]?.stats).to.include({ abandonedRunning: 2 });
    });
  });

  describe('what was thrown, in dead letters', () => {
    it('names an Error and renders anything else safely, clipped', async () => {
      const thrown: Record<string, unknown> = {
        object: { code: 7 },
        text: 'text',
        null: null,
        number: 42,
        long: 'x'.repeat(300),
        circular: (() => {
          const o: Record<string, unknown> = {};
          o['self'] = o;
          return o;
        })(),
        error: new RangeError('out of range'),
      };
      @Service({ name: 'thrower' })
      class Thrower {
        @Subscribe('throws.*', { durable: { stream: 'THROWS', maxDeliver: 1 } })
        run(kind: string): void {
          throw thrown[kind];
        }
      }
      const app = bed.cleanup.add(
        await startApp(bed.server, {
          services: [Thrower],
          streams: [{ name: 'THROWS', subjects: ['throws.>'] }],
        }),
        (a) => a.stop(),
      );
      for (const kind of Object.keys(thrown))
        await app.bus.publish(`throws.${kind}`, kind, { durable: true });
      await waitFor(async () => (await app.deadLetters.list()).length === 7);
      const reasons = Object.fromEntries(
        (await app.deadLetters.list()).map((l) => [
          l.origin.subject.slice('throws.'.length),
          l.reason,
        ]),
      );
      expect(reasons).to.deep.equal({
        object: '{"code":7}',
        text: "'text'",
        null: 'null',
        number: '42',
        long: `'${'x'.repeat(128)}… (300 characters)'`,
        circular: '[object Object]',
        error: 'RangeError: out of range',
      });
    });
  });

  describe('what already held, and holds', () => {
    it('answers a short 500 to whatever non-Error a handler throws or rejects with', async () => {
      const thrown: Record<string, () => unknown> = {
        text: () => {
          throw 'text';
        },
        null: () => {
          throw null;
        },
        undefined: () => {
          throw undefined;
        },
        object: () => {
          throw { code: 7 };
        },
        number: () => Promise.reject(42),
      };
      @Service({ name: 'odd' })
      class Odd {
        @Endpoint('odd.*')
        run(_body: unknown, ctx: MessageContext): unknown {
          return thrown[ctx.subject.slice('odd.'.length)]?.();
        }
      }
      const app = bed.cleanup.add(await startApp(bed.server, { services: [Odd] }), (a) => a.stop());
      for (const kind of Object.keys(thrown)) {
        const reply = await bed.client.request(`odd.${kind}`);
        expect(outcome(reply), kind).to.equal('500 internal error');
        expect(reply.string(), kind).to.equal('{"code":500,"message":"internal error"}');
      }
      expect(app.stats()[0]?.stats).to.include({ numRequests: 5, numErrors: 5 });
      await noUnhandledRejections();
    });

    it('answers 500 at once to replies JSON cannot encode', async () => {
      const circular: Record<string, unknown> = {};
      circular['self'] = circular;
      const replies: Record<string, unknown> = {
        circular,
        bigint: { n: 10n },
        toJSON: {
          toJSON() {
            throw new Error('no JSON for you');
          },
        },
      };
      @Service({ name: 'unencodable' })
      class Unencodable {
        @Endpoint('unencodable.*')
        run(_body: unknown, ctx: MessageContext): unknown {
          return replies[ctx.subject.slice('unencodable.'.length)];
        }
      }
      bed.cleanup.add(await startApp(bed.server, { services: [Unencodable] }), (a) => a.stop());
      for (const kind of Object.keys(replies)) {
        const began = performance.now();
        const reply = await bed.client.request(`unencodable.${kind}`, undefined, {
          timeout: 5_000,
        });
        expect(outcome(reply), kind).to.equal('500 internal error');
        expect(performance.now() - began, kind).to.be.below(1_000);
      }
    });

    it('survives a handler that blocks the event loop for 2 s', async () => {
      @Service({ name: 'blocker' })
      class Blocker {
        @Endpoint('blocker.block')
        block(ms: number): string {
          const until = Date.now() + ms;
          while (Date.now() < until) {
            // a synchronous loop, as a CPU-bound mistake would be
          }
          return 'unblocked';
        }
      }
      const app = bed.cleanup.add(await startApp(bed.server, { services: [Blocker] }), (a) =>
        a.stop(),
      );
      const blocked = await bed.client.request('blocker.block', json.encode(2_000), {
        timeout: 10_000,
      });
      expect(json.decode(blocked.data)).to.equal('unblocked');
      const after = await bed.client.request('blocker.block', json.encode(0));
      expect(json.decode(after.data)).to.equal('unblocked');
      expect(app.stats()[0]?.stats).to.include({ numRequests: 2, numErrors: 0 });
    });

    it('retries and dead-letters durable handlers that throw non-Errors, losing none', async () => {
      const seen: string[] = [];
      @Service({ name: 'oddly' })
      class Oddly {
        @Subscribe('oddly.*', { durable: { stream: 'ODDLY', maxDeliver: 2, backoff: [20] } })
        run(kind: string, ctx: MessageContext): void {
          seen.push(`${kind}#${ctx.deliveryCount ?? 0}`);
          if (kind === 'text') throw 'text';
          if (kind === 'null') throw null;
          if (kind === 'undefined') throw undefined;
          throw { code: 7 };
        }
      }
      const app = bed.cleanup.add(
        await startApp(bed.server, {
          services: [Oddly],
          streams: [{ name: 'ODDLY', subjects: ['oddly.>'] }],
        }),
        (a) => a.stop(),
      );
      const kinds = ['text', 'null', 'undefined', 'object'];
      for (const kind of kinds) await app.bus.publish(`oddly.${kind}`, kind, { durable: true });
      await waitFor(async () => (await app.deadLetters.list()).length === 4);
      expect([...seen].sort()).to.deep.equal(kinds.flatMap((k) => [`${k}#1`, `${k}#2`]).sort());
      const letters = await app.deadLetters.list();
      expect(
        Object.fromEntries(letters.map((l) => [l.origin.subject, [l.reason, l.attempts]])),
      ).to.deep.equal({
        'oddly.text': ["'text'", 2],
        'oddly.null': ['null', 2],
        'oddly.undefined': ['undefined', 2],
        'oddly.object': ['{"code":7}', 2],
      });
      await noUnhandledRejections();
    });
  });
});
