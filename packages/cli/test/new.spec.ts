import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
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

  it('scaffolds a service that builds and whose spec passes with no edits', async () => {
    const created = await brigade(['new', 'loyalty-points', '--root', copy]);
    expect(created.code, created.stderr).to.equal(0);
    for (const file of [
      'package.json',
      'tsconfig.json',
      'src/main.ts',
      'src/loyalty-points.service.ts',
      'test/loyalty-points.spec.ts',
    ]) {
      expect(existsSync(join(copy, 'apps', 'loyalty-points', file)), file).to.equal(true);
    }
    const compose = parse(readFileSync(join(copy, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { command: string[]; build: { target: string } }>;
    };
    expect(compose.services['loyalty-points']?.command).to.deep.equal([
      'node',
      'apps/loyalty-points/dist/main.js',
    ]);
    expect(compose.services['loyalty-points']?.build.target).to.equal('loyalty-points');
    expect(readFileSync(join(copy, 'docker-compose.yml'), 'utf8')).to.include(
      '# The restaurant as containers',
    ); // comments kept
    expect(readFileSync(join(copy, 'Dockerfile'), 'utf8')).to.include(
      'FROM runtime AS loyalty-points\nCMD ["node", "apps/loyalty-points/dist/main.js"]',
    );

    const build = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b'], {
      cwd: copy,
      encoding: 'utf8',
    });
    expect(build.status, build.stdout + build.stderr).to.equal(0);
    expect(existsSync(join(copy, 'apps', 'loyalty-points', 'dist', 'main.js'))).to.equal(true);

    // The repository's mocha settings, with only the new service's spec.
    const settings = JSON.parse(readFileSync(join(copy, '.mocharc.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(
      join(copy, 'mocharc.new.json'),
      JSON.stringify({ ...settings, spec: ['apps/loyalty-points/test/**/*.spec.ts'] }),
    );
    const test = spawnSync(
      process.execPath,
      ['node_modules/mocha/bin/mocha.js', '--config', 'mocharc.new.json'],
      {
        cwd: copy,
        encoding: 'utf8',
        env: { ...process.env, BRIGADE_LOG_LEVEL: 'silent' },
      },
    );
    expect(test.status, test.stdout + test.stderr).to.equal(0);
    expect(test.stdout).to.match(/2 passing/);
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
