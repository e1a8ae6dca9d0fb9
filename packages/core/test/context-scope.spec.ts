import { expect } from 'chai';
import {
  HookedScope,
  StorageScope,
  type ContextScope,
  type HandlerContext,
} from '@brigade/core/internal';

/** Stands in for a message's context: the scopes only carry it. */
function context(name: string): HandlerContext {
  return { name } as unknown as HandlerContext;
}

function nameOf(ctx: HandlerContext | undefined): string {
  return (ctx as unknown as { name?: string } | undefined)?.name ?? 'none';
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// The app uses the hooked scope on Node 20 and 22 and AsyncLocalStorage from 24 on; both must
// behave alike on every Node.
for (const [name, make] of [
  ['the hooked scope (Node 20 and 22)', () => new HookedScope()],
  ['the AsyncLocalStorage scope (Node 24 on)', () => new StorageScope()],
] as const) {
  describe(`message context: ${name}`, () => {
    let scope: ContextScope;
    beforeEach(() => {
      scope = make();
    });

    it('has no context outside a handler', () => {
      expect(scope.current()).to.equal(undefined);
    });

    it("is the handler's context in its synchronous part, and none once it returned", () => {
      const a = context('a');
      let seen: HandlerContext | undefined;
      const result = scope.run(a, (payload) => ((seen = scope.current()), payload), 42);
      expect(result).to.equal(42);
      expect(seen).to.equal(a);
      expect(scope.current()).to.equal(undefined);
    });

    it('restores the outer context after a nested run, and after a throw', () => {
      const seen: string[] = [];
      scope.run(
        context('outer'),
        () => {
          scope.run(context('inner'), () => seen.push(nameOf(scope.current())), undefined);
          seen.push(nameOf(scope.current()));
          expect(() =>
            scope.run(
              context('thrower'),
              () => {
                throw new Error('boom');
              },
              undefined,
            ),
          ).to.throw('boom');
          seen.push(nameOf(scope.current()));
        },
        undefined,
      );
      expect(seen).to.deep.equal(['inner', 'outer', 'outer']);
      expect(scope.current()).to.equal(undefined);
    });

    it('carries the context into timers, microtasks, `.then` and after `await`, also from a continuation', async () => {
      const seen: string[] = [];
      const done: Promise<unknown>[] = [];
      scope.run(
        context('a'),
        () => {
          done.push(
            new Promise<void>((resolve) =>
              setTimeout(() => {
                seen.push(`timer ${nameOf(scope.current())}`);
                resolve();
              }, 2),
            ),
          );
          queueMicrotask(() => seen.push(`microtask ${nameOf(scope.current())}`));
          done.push(Promise.resolve().then(() => seen.push(`then ${nameOf(scope.current())}`)));
          done.push(
            (async () => {
              await pause(1);
              seen.push(`await ${nameOf(scope.current())}`);
              await pause(1);
              seen.push(`second await ${nameOf(scope.current())}`);
            })(),
          );
        },
        undefined,
      );
      await Promise.all(done);
      expect(seen.sort()).to.deep.equal([
        'await a',
        'microtask a',
        'second await a',
        'then a',
        'timer a',
      ]);
    });

    it('keeps each handler its own context when they resume in another order than they began', async () => {
      const gates: (() => void)[] = [];
      const finished: Promise<string>[] = [];
      for (const n of [0, 1, 2, 3]) {
        scope.run(
          context(`m${n}`),
          () => {
            finished.push(
              new Promise<void>((resolve) => (gates[n] = resolve)).then(() =>
                nameOf(scope.current()),
              ),
            );
          },
          undefined,
        );
      }
      for (const n of [2, 0, 3, 1]) gates[n]?.();
      expect(await Promise.all(finished)).to.deep.equal(['m0', 'm1', 'm2', 'm3']);
    });

    it('leaves nothing behind for what starts outside a handler after one ran', async () => {
      scope.run(context('a'), () => pause(1), undefined);
      let inTimer: HandlerContext | undefined = context('not run');
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          inTimer = scope.current();
          resolve();
        }, 2),
      );
      expect(inTimer).to.equal(undefined);
      expect(await Promise.resolve().then(() => scope.current())).to.equal(undefined);
    });
  });
}
