import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve } from 'node:path';
import { expect } from 'chai';
import { composeProblems } from './support/compose-schema';
import { blocksOf } from './support/markdown';
import { LocalRegistry, sh } from './support/registry';
import { expectDevServesAndRestarts } from './support/scaffolded';

const ROOT = resolve(__dirname, '..');
const PACKAGES = ['core', 'testing', 'cli'].map((name) => join(ROOT, 'packages', name));
const FIXTURE = join(ROOT, 'test/projects/greeter');

interface PackedPackage {
  readonly name: string;
  readonly version: string;
  readonly files: readonly { path: string }[];
}

async function packed(dir: string): Promise<PackedPackage> {
  const [pack] = JSON.parse(
    await sh('npm', ['pack', '--dry-run', '--json'], dir),
  ) as PackedPackage[];
  return pack!;
}

/** Every file `manifest` points at: main, types, bin, and each target of its exports map. */
function pointedAt(manifest: Record<string, unknown>): string[] {
  const targets: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') targets.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  collect([manifest['main'], manifest['types'], manifest['bin'], manifest['exports']]);
  return targets.filter((t) => t !== './package.json').map((t) => normalize(t));
}

describe('the packages as a user gets them', function () {
  this.timeout(60_000);

  for (const dir of PACKAGES) {
    it(`${dir.split('/').pop()}: ships JS, declarations, README and LICENSE, and nothing it points at is missing`, async () => {
      const pack = await packed(dir);
      const files = new Set(pack.files.map((f) => normalize(f.path)));
      for (const needed of ['LICENSE', 'README.md', 'package.json'])
        expect(files).to.include(needed);
      expect([...files].filter((f) => /tsbuildinfo|\/test\/|\.spec\./.test(f))).to.deep.equal([]);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      for (const target of pointedAt(manifest))
        expect(files, `${pack.name} points at ${target}`).to.include(target);
      // Source maps and declaration maps name their sources: those ship too.
      for (const map of [...files].filter((f) => f.endsWith('.map'))) {
        const { sources } = JSON.parse(readFileSync(join(dir, map), 'utf8')) as {
          sources: string[];
        };
        for (const source of sources)
          expect(files, `${map} names ${source}`).to.include(normalize(join(dirname(map), source)));
      }
    });
  }
});

describe('Brigade installed from a registry into a project of its own @integration', function () {
  this.timeout(600_000);
  let work: string;
  let registry: LocalRegistry;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'brigade-registry-'));
    registry = await LocalRegistry.start(join(work, 'registry'));
    const userconfig = join(work, 'publish.npmrc');
    writeFileSync(userconfig, registry.npmrc());
    for (const dir of PACKAGES) await registry.publish(dir, userconfig);
  });

  after(async () => {
    await registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** The fixture project copied out of the repository, as a CommonJS or an ES module package. */
  async function installProject(type: 'commonjs' | 'module'): Promise<string> {
    const dir = join(work, `greeter-${type}`);
    cpSync(FIXTURE, dir, { recursive: true });
    const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const pick = (...names: string[]) =>
      Object.fromEntries(names.map((n) => [n, ours.devDependencies[n]!]));
    const manifest = {
      name: `greeter-${type}`,
      version: '1.0.0',
      private: true,
      type,
      scripts: { build: 'tsc', test: 'tsc && mocha --timeout 20000 "dist/test/**/*.test.js"' },
      // The user adds tsyringe too (for @singleton): it must stay the one copy Brigade uses.
      dependencies: { '@brigade/core': '^0.1.0', tsyringe: '^4.10.0' },
      devDependencies: {
        '@brigade/cli': '^0.1.0',
        '@brigade/testing': '^0.1.0',
        ...pick('typescript', 'mocha', 'chai', '@types/node', '@types/mocha', '@types/chai'),
      },
    };
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(dir, '.npmrc'), registry.npmrc());
    await sh('npm', ['install', '--prefer-offline'], dir);
    return dir;
  }

  async function onlyCopies(dir: string, name: string): Promise<string[]> {
    const tree = JSON.parse(await sh('npm', ['ls', name, '--all', '--json'], dir)) as unknown;
    const versions = new Set<string>();
    const walk = (node: unknown): void => {
      const deps =
        (node as { dependencies?: Record<string, { version?: string }> }).dependencies ?? {};
      for (const [dep, child] of Object.entries(deps)) {
        if (dep === name && child.version) versions.add(child.version);
        walk(child);
      }
    };
    walk(tree);
    return [...versions];
  }

  for (const type of ['commonjs', 'module'] as const) {
    it(`a ${type} project installs the packages, gets one tsyringe and one reflect-metadata, builds, and passes its spec`, async () => {
      const dir = await installProject(type);
      const lock = readFileSync(join(dir, 'package-lock.json'), 'utf8');
      expect(lock).to.include('"node_modules/@brigade/core"');
      expect(await onlyCopies(dir, 'tsyringe')).to.have.length(1);
      expect(await onlyCopies(dir, 'reflect-metadata')).to.have.length(1);
      expect(existsSync(join(dir, 'node_modules/@brigade/core/node_modules/tsyringe'))).to.equal(
        false,
      );
      const out = await sh('npm', ['test'], dir);
      expect(out).to.match(/2 passing/);
      const help = await sh('npx', ['brigade', '--help'], dir);
      expect(help).to.include('Usage: brigade');
    });
  }

  it('the README’s install lines, run as written, install Brigade into a project you have: from the registry, and packed from this repository', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const lines = (
      blocksOf(ROOT, 'README.md').find((b) => b.text.startsWith('npm install @brigade/core\n'))
        ?.text ?? ''
    )
      .trim()
      .split('\n');
    expect(lines, 'the README’s block for a project you have').to.have.length(2);
    const yours = join(work, 'yours');
    mkdirSync(yours);
    await sh('npm', ['init', '-y'], yours);
    writeFileSync(join(yours, '.npmrc'), registry.npmrc());
    for (const line of lines) await sh('sh', ['-c', line], yours);
    expect(await sh('npx', ['brigade', '--help'], yours)).to.include('Usage: brigade');
    expect(existsSync(join(yours, 'node_modules/@brigade/testing/package.json'))).to.equal(true);

    // From this repository instead: the README's `npm pack` and `npm install` of the tarballs.
    const prose = readme.replace(/\s*\n\s*/g, ' ');
    const pack = /`(mkdir -p <your project>\/vendor && npm pack [^`]+)`/.exec(prose);
    const install = /`(npm install \.\/vendor\/[^`]+)`/.exec(prose);
    expect(pack?.[1], 'the README’s npm pack line').to.include('--pack-destination');
    const packedInto = join(work, 'packed');
    mkdirSync(packedInto);
    await sh('npm', ['init', '-y'], packedInto);
    await sh('sh', ['-c', (pack?.[1] as string).replaceAll('<your project>', packedInto)], ROOT);
    // No registry holds Brigade here: only the tarballs can satisfy it.
    await sh('sh', ['-c', install?.[1] as string], packedInto);
    const manifest = JSON.parse(readFileSync(join(packedInto, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies['@brigade/core']).to.equal('file:vendor/brigade-core-0.1.0.tgz');
    expect(await sh('npx', ['brigade', '--help'], packedInto)).to.include('Usage: brigade');
  });

  it('`npx @brigade/cli new payments` outside a workspace starts a project that installs, tests, builds, watches and validates untouched', async () => {
    const userconfig = join(work, 'publish.npmrc');
    const elsewhere = join(work, 'elsewhere');
    mkdirSync(elsewhere);
    const created = await sh(
      'npm',
      [
        'exec',
        '--userconfig',
        userconfig,
        '--yes',
        '--package',
        '@brigade/cli@0.1.0',
        '--',
        'brigade',
        'new',
        'payments',
      ],
      elsewhere,
    );
    expect(created).to.include('created payments/');
    const project = join(elsewhere, 'payments');
    for (const file of [
      'package.json',
      'tsconfig.json',
      'src/main.ts',
      'src/payments.service.ts',
      'test/payments.spec.ts',
      'Dockerfile',
      'docker-compose.yml',
      '.gitignore',
      'README.md',
    ])
      expect(existsSync(join(project, file)), file).to.equal(true);
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(manifest.dependencies['@brigade/core']).to.equal('^0.1.0');
    // Its tools are the versions Brigade itself is built and tested with.
    const ours = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as typeof manifest)
      .devDependencies;
    for (const tool of ['typescript', 'ts-node', 'mocha', 'chai', '@types/node', '@types/mocha'])
      expect(manifest.devDependencies[tool], tool).to.equal(ours[tool]);
    expect(
      composeProblems(readFileSync(join(project, 'docker-compose.yml'), 'utf8')),
    ).to.deep.equal([]);

    await sh('npm', ['install', '--userconfig', userconfig], project);
    expect(await sh('npm', ['test'], project)).to.match(/2 passing/);
    await sh('npm', ['run', 'build'], project);
    expect(existsSync(join(project, 'dist/main.js'))).to.equal(true);

    // `npm run dev` serves the service and restarts it when its source changes.
    await expectDevServesAndRestarts(project);
  });
});
