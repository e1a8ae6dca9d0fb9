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

  it('`npm run brigade -- new payments --dir <folder>` packs the packages into it: it installs, tests, builds and serves anywhere', async () => {
    const elsewhere = join(work, 'elsewhere');
    mkdirSync(elsewhere);
    const created = await sh(
      'npm',
      ['run', 'brigade', '--', 'new', 'payments', '--dir', elsewhere],
      ROOT,
    );
    expect(created).to.include('the Brigade packages are packed from');
    const made = join(elsewhere, 'payments');
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
    // Nothing names the clone, and its README links to no registry's pages.
    for (const file of filesOf(made).filter((f) => !f.endsWith('.tgz')))
      expect(readFileSync(file, 'utf8'), file).to.not.include(ROOT);
    expect(readFileSync(join(made, 'README.md'), 'utf8')).to.not.match(/https?:\/\//);

    // Moved somewhere else entirely: it holds all it needs.
    const project = join(work, 'moved', 'payments');
    mkdirSync(join(work, 'moved'));
    renameSync(made, project);
    await sh('npm', ['install', '--no-audit', '--no-fund'], project);
    const lock = readFileSync(join(project, 'package-lock.json'), 'utf8');
    expect(lock).to.include('"resolved": "file:vendor/brigade-core-0.1.0.tgz"');
    expect(await sh('npm', ['test'], project)).to.match(/2 passing/);
    await sh('npm', ['run', 'build'], project);
    expect(existsSync(join(project, 'dist/main.js'))).to.equal(true);

    // `npm run dev` serves the service and restarts it when its source changes.
    await expectDevServesAndRestarts(project);
  });
});
