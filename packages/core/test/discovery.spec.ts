import 'reflect-metadata';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { singleton } from 'tsyringe';
import {
  Brigade,
  DefinitionError,
  Endpoint,
  ReflectMetadataError,
  Service,
  Subscribe,
} from '@brigade/core';
import { exploreServices } from '@brigade/core/internal';

function explore(...classes: unknown[]) {
  return exploreServices(classes);
}

function expectDefinitionError(fn: () => unknown, ...fragments: string[]): void {
  let error: unknown;
  try {
    fn();
  } catch (err) {
    error = err;
  }
  expect(error, 'expected a DefinitionError').to.be.instanceOf(DefinitionError);
  for (const fragment of fragments) expect((error as Error).message).to.include(fragment);
}

describe('discovery', () => {
  describe('handler definitions', () => {
    it('resolves the documented defaults once', () => {
      @Service({
        name: 'kitchen',
        version: '1.2.3',
        description: 'cooks',
        metadata: { team: 'food' },
      })
      class Kitchen {
        @Subscribe('orders.placed')
        cook(): void {}

        @Endpoint('kitchen.status')
        status(): void {}
      }
      const [service] = explore(Kitchen);
      expect(service).to.include({
        name: 'kitchen',
        version: '1.2.3',
        description: 'cooks',
        target: Kitchen,
      });
      expect(service?.metadata).to.deep.equal({ team: 'food' });
      expect(service?.handlers).to.deep.equal([
        {
          kind: 'event',
          name: 'cook',
          method: 'cook',
          subject: 'orders.placed',
          queue: 'kitchen',
          concurrency: 64,
          maxPending: 10_000,
          timeoutMs: 30_000,
          timeoutGraceMs: 5_000,
          payload: 'json',
          metadata: {},
          durable: undefined,
          middleware: [],
        },
        {
          kind: 'endpoint',
          name: 'status',
          method: 'status',
          subject: 'kitchen.status',
          queue: 'q',
          concurrency: 64,
          maxPending: 10_000,
          timeoutMs: 30_000,
          timeoutGraceMs: 5_000,
          payload: 'json',
          metadata: {},
          durable: undefined,
          middleware: [],
        },
      ]);
      expect(Object.isFrozen(service)).to.equal(true);
      expect(Object.isFrozen(service?.handlers[0])).to.equal(true);
    });

    it('resolves timeouts: the handler’s, else the service’s, else 30 s (5 min for durable handlers), grace 5 s', () => {
      @Service({ name: 'timed' })
      class Defaults {
        @Endpoint('t.a')
        a(): void {}

        @Subscribe('t.b', { durable: { stream: 'T' } })
        b(): void {}

        @Endpoint('t.c', { timeout: '2s', timeoutGrace: 250 })
        c(): void {}
      }
      @Service({ name: 'timed2', timeout: '10s', timeoutGrace: '1s' })
      class FromService {
        @Subscribe('t.d', { durable: { stream: 'T' } })
        d(): void {}

        @Endpoint('t.e', { timeout: 500 })
        e(): void {}
      }
      const timeouts = (target: unknown) =>
        explore(target)[0]?.handlers.map((h) => [h.name, h.timeoutMs, h.timeoutGraceMs]);
      expect(timeouts(Defaults)).to.deep.equal([
        ['a', 30_000, 5_000],
        ['b', 300_000, 5_000],
        ['c', 2_000, 250],
      ]);
      expect(timeouts(FromService)).to.deep.equal([
        ['d', 10_000, 1_000],
        ['e', 500, 1_000],
      ]);
    });

    it('refuses timeouts that are no durations, zero, or longer than a timer can wait', () => {
      for (const [timeout, problem] of [
        ['soon', "invalid timeout 'soon': a duration is milliseconds or a string like"],
        [0, 'invalid timeout 0: a timeout is over 0 and at most 2147483647 ms'],
        ['30d', "invalid timeout '30d': a timeout is over 0 and at most 2147483647 ms"],
      ] as const) {
        @Service({ name: 'bad' })
        class Bad {
          @Endpoint('bad.a', { timeout })
          a(): void {}
        }
        expect(() => explore(Bad), String(timeout)).to.throw(DefinitionError, problem);
      }
      @Service({ name: 'bad', timeoutGrace: -1 })
      class BadGrace {}
      expect(() => explore(BadGrace)).to.throw(DefinitionError, 'invalid timeoutGrace -1');
    });

    it('defaults the version to 0.0.0', () => {
      @Service({ name: 'plain' })
      class Plain {}
      expect(explore(Plain)[0]?.version).to.equal('0.0.0');
    });

    it('applies the queue rule: handler option, else service option, else kind default', () => {
      @Service({ name: 'svc', queue: 'shared', concurrency: 4, maxPending: 8 })
      class WithServiceQueue {
        @Subscribe('a')
        a(): void {}

        @Endpoint('b')
        b(): void {}

        @Subscribe('c', { queue: 'own', concurrency: 2 })
        c(): void {}

        @Endpoint('d', { queue: false })
        d(): void {}
      }
      @Service({ name: 'loud', queue: false })
      class Broadcast {
        @Subscribe('e')
        e(): void {}

        @Endpoint('f', { queue: 'back' })
        f(): void {}
      }
      const [svc, loud] = explore(WithServiceQueue, Broadcast);
      expect(
        svc?.handlers.map((h) => [h.name, h.queue, h.concurrency, h.maxPending]),
      ).to.deep.equal([
        ['a', 'shared', 4, 8],
        ['b', 'shared', 4, 8],
        ['c', 'own', 2, 8],
        ['d', undefined, 4, 8],
      ]);
      expect(loud?.handlers.map((h) => [h.name, h.queue])).to.deep.equal([
        ['e', undefined],
        ['f', 'back'],
      ]);
    });

    it('inherits handlers from a base class and lets an override replace them', () => {
      class Base {
        @Subscribe('base.one')
        one(): void {}

        @Subscribe('base.two')
        two(): void {}
      }
      @Service({ name: 'derived' })
      class Derived extends Base {
        @Subscribe('derived.two')
        override two(): void {}
      }
      expect(explore(Derived)[0]?.handlers.map((h) => h.subject)).to.deep.equal([
        'base.one',
        'derived.two',
      ]);
    });

    it('accepts the same subject twice in different queue groups', () => {
      @Service({ name: 'twice' })
      class Twice {
        @Subscribe('x', { name: 'shared' })
        shared(): void {}

        @Subscribe('x', { queue: false, name: 'everyone' })
        everyone(): void {}
      }
      expect(explore(Twice)[0]?.handlers).to.have.length(2);
    });
  });

  describe('validation at start', () => {
    const badSubjects = ['', 'a..b', '.a', 'a.', 'a b', 'a.b*', 'a.>.b', 'a>', '$SRV.PING'];
    for (const subject of badSubjects) {
      it(`rejects the subject ${JSON.stringify(subject)}, naming class, method and value`, () => {
        @Service({ name: 'bad' })
        class BadSubject {
          @Subscribe(subject)
          handle(): void {}
        }
        expectDefinitionError(
          () => explore(BadSubject),
          'BadSubject.handle',
          'invalid subject',
          `'${subject}'`,
        );
      });
    }

    it('accepts wildcard subjects', () => {
      @Service({ name: 'wild' })
      class Wild {
        @Subscribe('orders.*.placed')
        a(): void {}

        @Subscribe('orders.>')
        b(): void {}

        @Subscribe('>', { queue: 'all' })
        c(): void {}
      }
      expect(explore(Wild)[0]?.handlers).to.have.length(3);
    });

    for (const name of ['', 'has space', 'dot.ted', 'ümlaut', 'a/b']) {
      it(`rejects the service name ${JSON.stringify(name)}`, () => {
        @Service({ name })
        class BadName {}
        expectDefinitionError(() => explore(BadName), 'BadName', 'invalid name', `'${name}'`);
      });
    }

    for (const version of ['1', '1.0', 'v1.0.0', '01.0.0', '1.0.0-', 'latest']) {
      it(`rejects the version ${JSON.stringify(version)}`, () => {
        @Service({ name: 'versioned', version })
        class BadVersion {}
        expectDefinitionError(
          () => explore(BadVersion),
          'BadVersion',
          'invalid version',
          `'${version}'`,
        );
      });
    }

    it('rejects two handlers on the same subject and queue group in one service', () => {
      @Service({ name: 'dup' })
      class Duplicate {
        @Subscribe('orders.placed')
        first(): void {}

        @Subscribe('orders.placed')
        second(): void {}
      }
      expectDefinitionError(
        () => explore(Duplicate),
        'Duplicate.second',
        'Duplicate.first',
        "'orders.placed'",
        "queue group 'dup'",
      );
    });

    it('rejects two handlers with the same name', () => {
      @Service({ name: 'named' })
      class SameName {
        @Endpoint('a', { name: 'get' })
        one(): void {}

        @Endpoint('b', { name: 'get' })
        two(): void {}
      }
      expectDefinitionError(() => explore(SameName), 'SameName.two', "'get'");
    });

    it('rejects a listed class without @Service', () => {
      class NotAService {
        @Subscribe('x')
        x(): void {}
      }
      expectDefinitionError(() => explore(NotAService), 'NotAService', 'no @Service decorator');
    });

    it('rejects something that is not a class', () => {
      expectDefinitionError(() => explore({ name: 'kitchen' }), 'services[0]', 'not a class');
    });

    it('rejects an empty service list', () => {
      expectDefinitionError(() => exploreServices([]), 'at least one @Service class');
    });

    it('rejects two services of the same name in one app', () => {
      @Service({ name: 'same' })
      class One {}
      @Service({ name: 'same' })
      class Two {}
      expectDefinitionError(() => explore(One, Two), 'Two', 'One', "'same'");
    });

    it('rejects reserved metadata keys and non-string values', () => {
      @Service({ name: 'meta', metadata: { _nats_x: 'no' } })
      class Reserved {}
      expectDefinitionError(() => explore(Reserved), 'Reserved', '_nats_x', 'reserved');
      @Service({ name: 'meta2', metadata: { n: 1 as unknown as string } })
      class NotString {}
      expectDefinitionError(() => explore(NotString), 'NotString', "'n' must be a string");
    });

    it('rejects a bad queue group and bad limits', () => {
      @Service({ name: 'q1' })
      class BadQueue {
        @Subscribe('x', { queue: 'two words' })
        x(): void {}
      }
      expectDefinitionError(() => explore(BadQueue), 'BadQueue.x', 'invalid queue', "'two words'");
      @Service({ name: 'q2' })
      class BadLimit {
        @Subscribe('x', { concurrency: 0 })
        x(): void {}
      }
      expectDefinitionError(() => explore(BadLimit), 'BadLimit.x', 'invalid concurrency', '0');
    });

    it('rejects @Subscribe on a static method when the class is defined', () => {
      expect(() => {
        @Service({ name: 'static' })
        class Static {
          @Subscribe('x')
          static x(): void {}
        }
        return Static;
      }).to.throw(DefinitionError, 'static Static.x');
    });

    it('fails start before connecting when a definition is bad', async () => {
      @Service({ name: 'bad name' })
      class BadService {}
      // No server listens on this port: the definition error must come first.
      const failure = await Brigade.start({
        services: [BadService],
        nats: { servers: '127.0.0.1:1' },
      }).catch((e: unknown) => e);
      expect(failure).to.be.instanceOf(DefinitionError);
      expect((failure as Error).message).to.include('BadService');
    });
  });

  describe('durable handlers', () => {
    it('resolves the consumer and its defaults', () => {
      @Service({ name: 'kitchen' })
      class Kitchen {
        @Subscribe('orders.placed', { durable: { stream: 'ORDERS' } })
        cook(): void {}

        @Subscribe('orders.paid', {
          durable: {
            stream: 'ORDERS',
            consumer: 'payments',
            maxDeliver: 3,
            backoff: [250, '2s'],
            ackWait: '1m',
            maxAckPending: 10,
          },
        })
        paid(): void {}
      }
      const [cook, paid] = explore(Kitchen)[0]?.handlers ?? [];
      expect(cook?.queue).to.equal(undefined);
      expect(cook?.durable).to.deep.equal({
        stream: 'ORDERS',
        consumer: 'kitchen_cook',
        maxDeliver: 5,
        backoffMs: [1_000, 5_000, 30_000],
        ackWaitMs: 30_000,
        maxAckPending: 1_000,
        orderBy: undefined,
        breaker: undefined,
      });
      expect(paid?.durable).to.deep.equal({
        stream: 'ORDERS',
        consumer: 'payments',
        maxDeliver: 3,
        backoffMs: [250, 2_000],
        ackWaitMs: 60_000,
        maxAckPending: 10,
        orderBy: undefined,
        breaker: undefined,
      });
    });

    const bad: [string, object, string][] = [
      ['a stream name with a dot', { stream: 'OR.DERS' }, 'durable.stream'],
      ['a malformed backoff', { stream: 'S', backoff: ['soon'] }, 'durable.backoff[0]'],
      ['an empty backoff', { stream: 'S', backoff: [] }, 'durable.backoff'],
      ['a tiny ackWait', { stream: 'S', ackWait: '10ms' }, 'ackWait must be at least 1s'],
      ['a zero maxDeliver', { stream: 'S', maxDeliver: 0 }, 'durable.maxDeliver'],
    ];
    for (const [what, durable, fragment] of bad) {
      it(`rejects ${what}`, () => {
        @Service({ name: 'bad' })
        class BadDurable {
          @Subscribe('x', { durable: durable as { stream: string } })
          x(): void {}
        }
        expectDefinitionError(() => explore(BadDurable), 'BadDurable.x', fragment);
      });
    }

    it('rejects a queue group on a durable handler', () => {
      @Service({ name: 'mixed' })
      class Mixed {
        @Subscribe('x', { durable: { stream: 'S' }, queue: false })
        x(): void {}
      }
      expectDefinitionError(() => explore(Mixed), 'Mixed.x', 'remove `queue`');
    });
  });

  describe('reflect-metadata', () => {
    it('rejects a service whose constructor has no design metadata, saying how to fix it', () => {
      @singleton()
      class Stove {}
      // Applied by hand, as a compiler without emitDecoratorMetadata would leave it.
      class Kitchen {
        constructor(readonly stove: Stove) {}
      }
      Reflect.deleteMetadata('design:paramtypes', Kitchen);
      Service({ name: 'kitchen' })(Kitchen);
      let error: unknown;
      try {
        explore(Kitchen);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(ReflectMetadataError);
      expect((error as Error).message)
        .to.include("Kitchen's constructor")
        .and.include('emitDecoratorMetadata');
    });

    it('rejects a constructor parameter with no runtime type, naming it and the fix', () => {
      interface Clock {
        now(): number;
      }
      @Service({ name: 'timed' })
      class Timed {
        constructor(readonly clock: Clock) {}
      }
      let error: unknown;
      try {
        explore(Timed);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(ReflectMetadataError);
      expect((error as Error).message)
        .to.include("Timed's constructor parameter #0")
        .and.include('@inject(token)');
    });

    it('loads reflect-metadata itself: a program that never imports it injects and runs', () => {
      // A fresh process, no -r reflect-metadata: a decorated service with a constructor
      // dependency resolves (design:paramtypes was recorded), and a client needs nothing either.
      const program = `
        const { Service, Endpoint } = require('@brigade/core');
        const { injectable } = require('tsyringe');
        class Clock { now() { return 1; } }
        injectable()(Clock);
        class Timed { constructor(clock) { this.clock = clock; } tick() { return this.clock.now(); } }
        Reflect.metadata('design:paramtypes', [Clock])(Timed);
        Endpoint('timed.tick')(Timed.prototype, 'tick', Object.getOwnPropertyDescriptor(Timed.prototype, 'tick'));
        Service({ name: 'timed' })(Timed);
        const { container } = require('tsyringe');
        console.log(container.resolve(Timed).tick(), typeof require('@brigade/core').BrigadeClient.connect);
      `;
      const child = spawnSync(
        process.execPath,
        ['--conditions=brigade-source', '-r', 'ts-node/register', '-e', program],
        { encoding: 'utf8', env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' } },
      );
      expect(child.stderr).to.equal('');
      expect(child.stdout.trim()).to.equal('1 function');
      expect(child.status).to.equal(0);
    });
  });
});
