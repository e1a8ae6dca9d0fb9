import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect } from 'chai';
import { ESLint } from 'eslint';
import * as core from '@brigade/core';
import { Bus } from '@brigade/core';

const ROOT = resolve(__dirname, '../../..');
const DIST = join(ROOT, 'packages/core/dist');

/** Every package a declaration file reachable from `entry` imports, with the files that do. */
function packagesNamedBy(entry: string): Map<string, string[]> {
  const seen = new Set<string>();
  const named = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, specifier] of text.matchAll(/(?:from\s+|import\()\s*['"]([^'"]+)['"]/g)) {
      if (specifier!.startsWith('.')) {
        const base = resolve(dirname(file), specifier!);
        visit(existsSync(`${base}.d.ts`) ? `${base}.d.ts` : join(base, 'index.d.ts'));
      } else {
        const files = named.get(specifier!) ?? [];
        named.set(specifier!, [...files, relative(DIST, file)]);
      }
    }
  };
  visit(entry);
  return named;
}

describe('the public face of @brigade/core', () => {
  it('names no nats client type in its declarations: only pino, tsyringe, Standard Schema and node built-ins', () => {
    const entry = join(DIST, 'index.d.ts');
    expect(existsSync(entry), 'run `npm run build` first').to.equal(true);
    const named = packagesNamedBy(entry);
    const foreign = [...named].filter(
      ([name]) =>
        !['pino', 'tsyringe', '@standard-schema/spec'].includes(name) && !name.startsWith('node:'),
    );
    expect(Object.fromEntries(foreign)).to.deep.equal({});
    expect(named.has('tsyringe'), 'the walk reached the options').to.equal(true);
  });

  it('has one door to start an app and no internals among its values', () => {
    const values = Object.keys(core).sort();
    expect(values).to.include.members(['Brigade', 'BrigadeClient', 'Bus', 'Service', 'Endpoint']);
    for (const internal of ['BrigadeApp', 'runApp', 'exploreServices', 'NatsBus', 'HandlerInvoker'])
      expect(values, internal).not.to.include(internal);
    expect(Object.keys(core.Brigade).sort()).to.deep.equal(['run', 'start']);
  });

  it('lets a test stand in its own Bus for the one the app provides', async () => {
    const sent: string[] = [];
    class RecordingBus extends Bus {
      override async publish(subject: string): Promise<never> {
        sent.push(subject);
        return undefined as never;
      }
      override request<T>(): Promise<T> {
        return Promise.reject(new Error('not in this test'));
      }
      override requestMany(): Promise<never[]> {
        return Promise.resolve([]);
      }
      override flush(): Promise<void> {
        return Promise.resolve();
      }
    }
    class Greeter {
      constructor(private readonly bus: Bus) {}
      greet(): Promise<void> {
        return this.bus.publish('greeting.sent', { hello: 'world' });
      }
    }
    await new Greeter(new RecordingBus()).greet();
    expect(sent).to.deep.equal(['greeting.sent']);
  });
});

describe('the layers of packages/core/src, as the lint holds them', function () {
  this.timeout(60_000);
  const eslint = new ESLint({ cwd: ROOT });

  async function problems(
    folder: string,
    code: string,
    name = 'layer-probe.ts',
  ): Promise<string[]> {
    const file = join(ROOT, 'packages/core/src', folder, name);
    const [result] = await eslint.lintText(code, { filePath: file });
    return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
  }

  it('refuses an import from a folder above or beside, and nats outside its two folders', async () => {
    expect(await problems('discovery', "export { NatsBus } from '../bus/nats-bus';\n"))
      .to.have.length(1)
      .and.to.match(/no-restricted-imports: .*discovery\/ imports only from common/);
    expect(
      await problems(
        'jetstream',
        "export { HandlerInvoker } from '../pipeline/handler-invoker';\n",
      ),
    ).to.have.length(1);
    expect(
      await problems(
        'transport',
        "export type { ServiceOptions } from '../metadata/handler-options';\n",
      ),
    ).to.have.length(1);
    expect(await problems('app', "export { connect } from 'nats';\n"))
      .to.have.length(1)
      .and.to.match(/only transport\/ and jetstream\/ import the nats client/);
  });

  it('admits an import from a folder below, and nats in the transport', async () => {
    expect(
      await problems('app', "export { NatsTransport } from '../transport/nats-transport';\n"),
    ).to.deep.equal([]);
    expect(
      await problems(
        'transport',
        "export { connect } from 'nats';\nexport { clip } from '../common/clip';\n",
      ),
    ).to.deep.equal([]);
  });

  it('refuses an import cycle inside a folder, type-only imports included, and names the way round', async () => {
    // step.ts is imported (for types) by the invoker; importing the invoker back closes a circle.
    const cycle = await problems(
      'pipeline',
      "import type { HandlerInvoker } from './handler-invoker';\nexport type Probe = HandlerInvoker;\n",
      'step.ts',
    );
    expect(cycle).to.have.length(1);
    expect(cycle[0]).to.equal(
      'brigade/no-import-cycle: import cycle: step.ts → handler-invoker.ts → step.ts',
    );
    // The way back may be longer: the invoker imports the context, which imports traceparent.ts.
    expect(
      await problems(
        'pipeline',
        "import type { HandlerInvoker } from './handler-invoker';\nexport type Probe = HandlerInvoker;\n",
        'traceparent.ts',
      ),
    ).to.deep.equal([
      'brigade/no-import-cycle: import cycle: traceparent.ts → handler-invoker.ts → handler-context.ts → traceparent.ts',
    ]);
    expect(
      await problems(
        'pipeline',
        "import type { HandlerContext } from './handler-context';\nexport type Probe = HandlerContext;\n",
        'step.ts',
      ),
    ).to.deep.equal([]);
  });
});
