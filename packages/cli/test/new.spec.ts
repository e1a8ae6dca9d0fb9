import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { brigade } from './run-cli';

const REPO = join(__dirname, '..', '..', '..');

/** A copy of the repository's work tree (what git does not ignore), with its installed node_modules. */
function copyRepository(): string {
  const copy = mkdtempSync(join(tmpdir(), 'brigade-new-'));
  const files = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: REPO, encoding: 'utf8' },
  )
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(REPO, file))) continue; // deleted in the work tree
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(REPO, file), join(copy, file));
  }
  cpSync(join(REPO, 'node_modules'), join(copy, 'node_modules'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  return copy;
}

describe('brigade new @integration', function () {
  this.timeout(180_000);
  let copy: string;

  before(() => {
    copy = copyRepository();
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  it('scaffolds a service that builds, passes the lint and whose own spec passes with no edits', async () => {
    const composeBefore = readFileSync(join(copy, 'docker-compose.yml'), 'utf8');
    const manifestBefore = readFileSync(join(copy, 'package.json'), 'utf8');
    const created = await brigade(['new', 'loyalty-points', '--root', copy]);
    expect(created.code, created.stderr).to.equal(0);
    const app = (file: string) => `apps/loyalty-points/${file}`;
    // What it lists is what it wrote or changed: the workspace's apps/* already covers the app.
    const listed = created.stdout
      .split('\n')
      .filter((line) => line.startsWith('  '))
      .map((line) => line.trim());
    expect(listed).to.have.members([
      app('package.json'),
      app('tsconfig.json'),
      app('src/main.ts'),
      app('src/loyalty-points.service.ts'),
      app('test/loyalty-points.spec.ts'),
      'tsconfig.json',
      'Dockerfile',
      'docker-compose.yml',
    ]);
    expect(readFileSync(join(copy, 'package.json'), 'utf8')).to.equal(manifestBefore);

    // The other compose entries stay byte for byte: the new one is only added.
    const composeAfter = readFileSync(join(copy, 'docker-compose.yml'), 'utf8');
    const added = composeAfter.slice(composeAfter.indexOf('  loyalty-points:'));
    const entry = added.slice(0, added.indexOf('\nvolumes:'));
    expect(composeAfter.replace(`\n${entry}`, '')).to.equal(composeBefore);
    const compose = parse(composeAfter) as {
      services: Record<string, { command: string[]; build: { target: string } }>;
    };
    expect(compose.services['loyalty-points']?.command).to.deep.equal([
      'node',
      'apps/loyalty-points/dist/main.js',
    ]);
    expect(compose.services['loyalty-points']?.build.target).to.equal('loyalty-points');
    // Health-checked on its readiness probe, like the workspace's other apps.
    expect(entry).to.include("BRIGADE_OPS_PORT: '9464'").and.include('healthcheck: *ready');
    expect(readFileSync(join(copy, 'Dockerfile'), 'utf8')).to.include(
      'FROM runtime AS loyalty-points\nCMD ["node", "apps/loyalty-points/dist/main.js"]',
    );

    // It names core's peers itself, at core's ranges: a production prune keeps them then.
    const manifest = JSON.parse(readFileSync(join(copy, app('package.json')), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const core = JSON.parse(
      readFileSync(join(copy, 'packages', 'core', 'package.json'), 'utf8'),
    ) as { peerDependencies: Record<string, string> };
    expect(manifest.dependencies).to.include(core.peerDependencies);

    // The workspace's lint takes what it wrote as it is.
    const lint = spawnSync(
      process.execPath,
      ['node_modules/prettier/bin/prettier.cjs', '--check', '--ignore-unknown', ...listed],
      { cwd: copy, encoding: 'utf8' },
    );
    expect(lint.status, lint.stdout + lint.stderr).to.equal(0);
    const eslint = spawnSync(
      process.execPath,
      ['node_modules/eslint/bin/eslint.js', 'apps/loyalty-points'],
      { cwd: copy, encoding: 'utf8' },
    );
    expect(eslint.status, eslint.stdout + eslint.stderr).to.equal(0);

    const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b'], {
      cwd: copy,
      encoding: 'utf8',
    });
    expect(build.status, build.stdout + build.stderr).to.equal(0);
    expect(existsSync(join(copy, 'apps', 'loyalty-points', 'dist', 'main.js'))).to.equal(true);

    // The hint's test command runs the new service's spec, and only it.
    expect(created.stdout).to.include('npm test -w apps/loyalty-points');
    const test = spawnSync('npm', ['test', '-w', 'apps/loyalty-points'], {
      cwd: copy,
      encoding: 'utf8',
      env: { ...process.env, BRIGADE_LOG_LEVEL: 'silent' },
    });
    expect(test.status, test.stdout + test.stderr).to.equal(0);
    expect(test.stdout).to.match(/\b2 passing/);
  });

  it('refuses an existing or invalid name with a clear message', async () => {
    const existing = await brigade(['new', 'kitchen', '--root', copy]);
    expect(existing.code).to.equal(2);
    expect(existing.stderr).to.include('apps/kitchen exists already');
    for (const bad of ['Loyalty', 'loyalty_points', '9lives', 'a--b', 'trailing-']) {
      const invalid = await brigade(['new', bad, '--root', copy]);
      expect(invalid.code, bad).to.equal(2);
      expect(invalid.stderr, bad).to.include(`'${bad}' is not a valid service name`);
    }
  });
});
