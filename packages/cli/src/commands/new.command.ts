import { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { UsageError } from '../connection';
import { print } from '../output';
import {
  dockerfileTarget,
  type PackageSources,
  registrySources,
  standaloneFiles,
  workspaceAppFiles,
} from '../scaffold/templates';
import { CLI_VERSION } from '../version';

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME = 40;

/** The Brigade workspace around `from`: the nearest folder up whose package.json has workspaces. */
function findWorkspace(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { workspaces } = JSON.parse(readFileSync(manifest, 'utf8')) as { workspaces?: unknown };
      if (workspaces) return dir;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

export function checkName(name: string): void {
  if (!NAME.test(name) || name.length > MAX_NAME) {
    throw new UsageError(
      `'${name}' is not a valid service name: use lower-case letters, digits and single dashes, starting with a letter, at most ${MAX_NAME} characters (e.g. 'payments' or 'loyalty-points')`,
    );
  }
}

/** Rewrites a JSON file; true when that changed it. */
function editJson(path: string, edit: (value: Record<string, unknown>) => void): boolean {
  const before = readFileSync(path, 'utf8');
  const value = JSON.parse(before) as Record<string, unknown>;
  edit(value);
  const after = `${JSON.stringify(value, null, 2)}\n`;
  if (after === before) return false;
  writeFileSync(path, after);
  return true;
}

function writeFiles(dir: string, files: Record<string, string>): string[] {
  return Object.entries(files).map(([file, content]) => {
    const path = join(dir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return path;
  });
}

/** What `brigade new` uses of a workspace's prettier (3.x). */
interface Prettier {
  getFileInfo(
    path: string,
    options: { ignorePath?: string },
  ): Promise<{ ignored: boolean; inferredParser: string | null }>;
  resolveConfig(path: string): Promise<Record<string, unknown> | null>;
  format(text: string, options: Record<string, unknown>): Promise<string>;
}

/**
 * Formats `paths` with the workspace's own prettier and settings, when it has prettier: what
 * `brigade new` writes then passes the workspace's lint as it is.
 */
async function formatLikeTheWorkspace(root: string, paths: readonly string[]): Promise<void> {
  let prettier: Prettier;
  try {
    prettier = createRequire(join(root, 'package.json'))('prettier') as Prettier;
  } catch {
    return; // no prettier there: the files stay as written
  }
  const ignorePath = join(root, '.prettierignore');
  for (const path of paths) {
    const info = await prettier.getFileInfo(path, {
      ignorePath: existsSync(ignorePath) ? ignorePath : undefined,
    });
    if (info.ignored || !info.inferredParser) continue;
    const options = await prettier.resolveConfig(path);
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, await prettier.format(text, { ...options, filepath: path }));
  }
}

/**
 * `service` appended to the `services:` of a compose file, as text: every other line stays as it
 * was, comments and style included. Checked by parsing the result.
 */
export function withComposeService(compose: string, name: string, block: string): string {
  const lines = compose.split('\n');
  const start = lines.findIndex((line) => /^services:\s*(#.*)?$/.test(line));
  if (start < 0) throw new UsageError('docker-compose.yml has no top-level services: section');
  let end = lines.findIndex((line, i) => i > start && /^[^\s#]/.test(line));
  if (end < 0) end = lines.length;
  while (end > start + 1 && lines[end - 1]!.trim() === '') end--;
  const result = [...lines.slice(0, end), '', ...block.trimEnd().split('\n'), ...lines.slice(end)];
  const text = result.join('\n');
  const parsed = parseDocument(text);
  if (parsed.errors.length > 0 || !parsed.hasIn(['services', name]))
    throw new Error(`could not add '${name}' to docker-compose.yml: ${String(parsed.errors[0])}`);
  return text;
}

/** Its compose entry; with the workspace's readiness health check when the file defines one. */
function composeEntry(name: string, compose: string): string {
  const probed = /^x-ready: &ready\b/m.test(compose);
  return `  ${name}:
    build: { context: ., dockerfile: Dockerfile, target: ${name} }
    command: ['node', 'apps/${name}/dist/main.js']
    environment:
      NATS_URL: nats://nats:4222
${probed ? "      BRIGADE_OPS_PORT: '9464'\n" : ''}    depends_on:
      nats: { condition: service_healthy }
${probed ? '    healthcheck: *ready\n' : ''}    restart: unless-stopped
`;
}

/**
 * Creates apps/<name> and registers it with the workspace, the build, the Dockerfile and compose.
 * Returns the files it wrote or changed, relative to `root`.
 */
export async function scaffold(name: string, root: string): Promise<string[]> {
  checkName(name);
  const appDir = join(root, 'apps', name);
  if (existsSync(appDir))
    throw new UsageError(`apps/${name} exists already: pick another name or remove it first`);
  const written = writeFiles(appDir, workspaceAppFiles(name, CLI_VERSION));

  const manifest = join(root, 'package.json');
  const registered = editJson(manifest, (value) => {
    const workspaces = value['workspaces'] as string[];
    if (!workspaces.includes('apps/*') && !workspaces.includes(`apps/${name}`))
      workspaces.push(`apps/${name}`);
  });
  if (registered) written.push(manifest);
  const tsconfig = join(root, 'tsconfig.json');
  if (existsSync(tsconfig)) {
    const referenced = editJson(tsconfig, (config) => {
      const references = (config['references'] ??= []) as { path: string }[];
      if (!references.some((r) => r.path === `apps/${name}`))
        references.push({ path: `apps/${name}` });
    });
    if (referenced) written.push(tsconfig);
  }
  await formatLikeTheWorkspace(root, written);

  const dockerfile = join(root, 'Dockerfile');
  if (existsSync(dockerfile)) {
    writeFileSync(
      dockerfile,
      `${readFileSync(dockerfile, 'utf8').trimEnd()}\n${dockerfileTarget(name)}`,
    );
    written.push(dockerfile);
  }
  const composeFile = join(root, 'docker-compose.yml');
  if (existsSync(composeFile)) {
    const compose = readFileSync(composeFile, 'utf8');
    writeFileSync(composeFile, withComposeService(compose, name, composeEntry(name, compose)));
    written.push(composeFile);
  }
  return written.map((path) => relative(root, path));
}

/**
 * Creates `<parent>/<name>`, a project of its own: on the Brigade packages of a registry, or,
 * with `source` (the root of a Brigade repository this CLI runs from), on tarballs of them packed
 * from there into the project's `vendor/`.
 */
export function scaffoldStandalone(name: string, parent: string, source?: string): string[] {
  checkName(name);
  const dir = join(parent, name);
  if (existsSync(dir))
    throw new UsageError(`${dir} exists already: pick another name or remove it first`);
  const vendored = source === undefined ? [] : packInto(source, join(dir, VENDOR));
  const sources = source === undefined ? registrySources(CLI_VERSION) : vendoredSources(vendored);
  const written = writeFiles(dir, standaloneFiles(name, sources));
  return [...written, ...vendored.map((file) => join(dir, VENDOR, file))].map((path) =>
    relative(parent, path),
  );
}

const VENDOR = 'vendor';

/**
 * The root of the Brigade repository this CLI runs from (its packages built there), or
 * `undefined` when it runs from an installed package.
 */
export function sourceRepository(): string | undefined {
  const root = resolve(__dirname, '..', '..', '..', '..');
  try {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      workspaces?: unknown;
    };
    const core = JSON.parse(
      readFileSync(join(root, 'packages', 'core', 'package.json'), 'utf8'),
    ) as { name?: string };
    return manifest.workspaces && core.name === '@brigade/core' ? root : undefined;
  } catch {
    return undefined;
  }
}

/** Packs the Brigade packages of the repository at `root` into `dir`; returns the file names. */
function packInto(root: string, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const workspaces = ['core', 'testing', 'cli'].flatMap((p) => ['-w', `packages/${p}`]);
  const packed = spawnSync(
    'npm',
    ['pack', ...workspaces, '--pack-destination', dir, '--json', '--ignore-scripts'],
    { cwd: root, encoding: 'utf8' },
  );
  if (packed.status !== 0)
    throw new Error(
      `could not pack the Brigade packages in ${root} (is it built? npm run build): ${packed.stderr.trim()}`,
    );
  return (JSON.parse(packed.stdout) as { filename: string }[]).map((p) => p.filename);
}

/** `file:` paths to the packed tarballs, by package name. */
function vendoredSources(files: readonly string[]): PackageSources {
  const sourceOf = (name: keyof PackageSources): string => {
    const file = files.find((f) => f.startsWith(`${name.slice(1).replace('/', '-')}-`));
    if (!file) throw new Error(`npm pack made no tarball of ${name}`);
    return `file:${VENDOR}/${file}`;
  };
  return {
    '@brigade/core': sourceOf('@brigade/core'),
    '@brigade/testing': sourceOf('@brigade/testing'),
    '@brigade/cli': sourceOf('@brigade/cli'),
  };
}

interface NewFlags {
  root?: string;
  standalone?: boolean;
  dir?: string;
  registry?: boolean;
}

export function newCommand(): Command {
  return new Command('new')
    .description(
      'create a service with an endpoint, an event handler, its spec, its image and its compose entry: ' +
        'apps/<name> inside a Brigade workspace, else a project of its own in ./<name>',
    )
    .argument('<name>', "the service's name, e.g. payments")
    .option('--root <dir>', 'the workspace root (default: found from the current folder)')
    .option('--standalone', 'create a project of its own in ./<name>, even inside a workspace')
    .option('--dir <folder>', 'create it in this folder instead of the current one')
    .option(
      '--registry',
      'a project of its own takes the Brigade packages from the registry, even when this CLI runs from a Brigade repository (which it otherwise packs them from)',
    )
    .action(async (name: string, flags: NewFlags) => {
      if (flags.root && flags.standalone)
        throw new UsageError('--root and --standalone exclude each other');
      const parent = resolve(flags.dir ?? process.cwd());
      const root = flags.standalone
        ? undefined
        : flags.root
          ? resolve(flags.root)
          : findWorkspace(parent);
      if (root === undefined) {
        const source = flags.registry ? undefined : sourceRepository();
        const written = scaffoldStandalone(name, parent, source);
        const shown = relative(process.cwd(), join(parent, name)) || name;
        print(`created ${shown}/:`);
        for (const file of written) print(`  ${file}`);
        if (source !== undefined)
          print(
            `\nthe Brigade packages are packed from ${source} into ${name}/vendor/ (no registry needed; --registry takes them from one)`,
          );
        print(`\nnext: cd ${shown} && npm install && npm test\nrun it: npm run dev`);
        return;
      }
      const written = await scaffold(name, root);
      print(`created apps/${name}:`);
      for (const file of written) print(`  ${file}`);
      print(
        `\nnext: npm install && npm run build && npm test -w apps/${name}\nrun it: NATS_URL=nats://127.0.0.1:4222 node apps/${name}/dist/main.js`,
      );
    });
}
