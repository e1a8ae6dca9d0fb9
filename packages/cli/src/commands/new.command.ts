import { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { UsageError } from '../connection';
import { print } from '../output';
import { appFiles, dockerfileTarget } from '../scaffold/templates';

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME = 40;

/** The monorepo root: the nearest folder up with a package.json that has workspaces. */
function findRoot(from: string): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { workspaces?: unknown }).workspaces
    )
      return dir;
    if (dirname(dir) === dir)
      throw new UsageError(`no Brigade repository (a package.json with workspaces) above ${from}`);
  }
}

export function checkName(name: string): void {
  if (!NAME.test(name) || name.length > MAX_NAME) {
    throw new UsageError(
      `'${name}' is not a valid service name: use lower-case letters, digits and single dashes, starting with a letter, at most ${MAX_NAME} characters (e.g. 'payments' or 'loyalty-points')`,
    );
  }
}

function editJson(path: string, edit: (value: Record<string, unknown>) => void): void {
  const value = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(value);
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Creates apps/<name> and registers it with the workspace, the build, the Dockerfile and compose. */
export function scaffold(name: string, root: string): string[] {
  checkName(name);
  const appDir = join(root, 'apps', name);
  if (existsSync(appDir))
    throw new UsageError(`apps/${name} exists already: pick another name or remove it first`);
  const written: string[] = [];
  for (const [file, content] of Object.entries(appFiles(name))) {
    const path = join(appDir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    written.push(relative(root, path));
  }

  editJson(join(root, 'package.json'), (manifest) => {
    const workspaces = manifest['workspaces'] as string[];
    if (!workspaces.includes('apps/*') && !workspaces.includes(`apps/${name}`))
      workspaces.push(`apps/${name}`);
  });
  written.push('package.json');
  const tsconfig = join(root, 'tsconfig.json');
  if (existsSync(tsconfig)) {
    editJson(tsconfig, (config) => {
      const references = (config['references'] ??= []) as { path: string }[];
      references.push({ path: `apps/${name}` });
    });
    written.push('tsconfig.json');
  }

  const dockerfile = join(root, 'Dockerfile');
  if (existsSync(dockerfile)) {
    writeFileSync(
      dockerfile,
      `${readFileSync(dockerfile, 'utf8').trimEnd()}\n${dockerfileTarget(name)}`,
    );
    written.push('Dockerfile');
  }
  const composeFile = join(root, 'docker-compose.yml');
  if (existsSync(composeFile)) {
    const compose = parseDocument(readFileSync(composeFile, 'utf8'));
    compose.setIn(
      ['services', name],
      compose.createNode({
        build: { context: '.', dockerfile: 'Dockerfile', target: name },
        command: ['node', `apps/${name}/dist/main.js`],
        environment: { NATS_URL: 'nats://nats:4222' },
        depends_on: { nats: { condition: 'service_healthy' } },
        restart: 'unless-stopped',
      }),
    );
    writeFileSync(composeFile, compose.toString());
    written.push('docker-compose.yml');
  }
  return written;
}

export function newCommand(): Command {
  return new Command('new')
    .description(
      'create apps/<name>: a service with an endpoint and an event handler, its spec, its image and its compose entry',
    )
    .argument('<name>', "the service's name, e.g. payments")
    .option('--root <dir>', 'the repository root (default: found from the current folder)')
    .action((name: string, flags: { root?: string }) => {
      const root = flags.root ? resolve(flags.root) : findRoot(process.cwd());
      const written = scaffold(name, root);
      print(`created apps/${name}:`);
      for (const file of written) print(`  ${file}`);
      print(
        `\nnext: npm install && npm run build && npx mocha apps/${name}/test\nrun it: NATS_URL=nats://127.0.0.1:4222 node apps/${name}/dist/main.js`,
      );
    });
}
