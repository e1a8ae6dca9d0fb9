import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { blocksOf } from './support/markdown';
import { sh } from './support/registry';
import { expectDevServesAndRestarts } from './support/scaffolded';

const ROOT = resolve(__dirname, '..');

/** Every file of `dir` (node_modules left out), for what a project must not name. */
function filesOf(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.name === 'node_modules') return [];
    return entry.isDirectory() ? filesOf(path) : [path];
  });
}

describe('a project of its own from this repository alone, with no registry holding Brigade @integration', function () {
  this.timeout(600_000);
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'brigade-from-source-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('the README’s two lines, run as written in a fresh clone, make a project that needs nothing of the clone: it installs, tests, builds and serves anywhere', async () => {
    // A fresh clone of this repository, as a newcomer has it (its committed state), then the
    // README's quick start for a project of one's own, exactly as written there.
    const clone = join(work, 'clone', 'brigade');
    await sh('git', ['clone', '--quiet', ROOT, clone], work);
    const block = blocksOf(clone, 'README.md').find(
      (b) => b.lang === 'sh' && b.before.endsWith('(after `npm ci`):'),
    );
    const lines = (block?.text ?? '').trim().split('\n');
    expect(lines).to.deep.equal([
      'npm run build && npm run brigade -- new payments --dir ..',
      'cd ../payments && npm install && npm test',
    ]);
    await sh('npm', ['ci'], clone);
    const created = await sh('sh', ['-c', lines[0] as string], clone);
    expect(created).to.include('the Brigade packages are packed from');
    expect(await sh('sh', ['-c', lines[1] as string], clone)).to.match(/2 passing/);
    const made = join(work, 'clone', 'payments');
    const manifest = JSON.parse(readFileSync(join(made, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(manifest.dependencies['@brigade/core']).to.equal('file:vendor/brigade-core-0.1.0.tgz');
    expect(manifest.devDependencies['@brigade/testing']).to.equal(
      'file:vendor/brigade-testing-0.1.0.tgz',
    );
    expect(manifest.devDependencies['@brigade/cli']).to.equal('file:vendor/brigade-cli-0.1.0.tgz');
    expect(readdirSync(join(made, 'vendor')).sort()).to.deep.equal([
      'brigade-cli-0.1.0.tgz',
      'brigade-core-0.1.0.tgz',
      'brigade-testing-0.1.0.tgz',
    ]);
    expect(readFileSync(join(made, 'Dockerfile'), 'utf8')).to.include('COPY vendor ./vendor');
    expect(readFileSync(join(made, 'package-lock.json'), 'utf8')).to.include(
      '"resolved": "file:vendor/brigade-core-0.1.0.tgz"',
    );
    // Nothing names the clone, and its README links to no registry's pages.
    for (const file of filesOf(made).filter((f) => !f.endsWith('.tgz')))
      expect(readFileSync(file, 'utf8'), file).to.not.include(clone);
    expect(readFileSync(join(made, 'README.md'), 'utf8')).to.not.match(/https?:\/\//);

    // The clone gone and the project moved somewhere else entirely: it holds all it needs.
    const project = join(work, 'moved', 'payments');
    mkdirSync(join(work, 'moved'));
    renameSync(made, project);
    rmSync(clone, { recursive: true, force: true });
    expect(await sh('npm', ['test'], project)).to.match(/2 passing/);
    await sh('npm', ['run', 'build'], project);
    expect(existsSync(join(project, 'dist/main.js'))).to.equal(true);

    // `npm run dev` serves the service and restarts it when its source changes.
    await expectDevServesAndRestarts(project);
  });
});
