/**
 * npm run demo:containers [-- --keep]
 *
 * The restaurant as real containers: builds the Dockerfile's targets and starts
 * docker-compose.yml, both unmodified, with `docker compose` where a Docker engine runs and with
 * rootful Podman (podman-compose) otherwise; waits for every container's health check, places
 * orders through reception's published port, checks that both kitchens cooked and that every
 * order was served, restarts the project (`down`, `up`) to check that JetStream kept its data on
 * the named volume, prints the images' sizes and checks what they hold and whom they run as.
 * Then it tears everything down (containers, volumes, network, temporary files), also when it
 * fails or is interrupted. Exits 1 when an image does not build, a container exits or an order
 * is not served.
 *
 * Where the engine cannot pull the two base images the files name (`node:20-bookworm-slim`,
 * `nats:2.15-alpine`: no registry reachable), it makes them locally, once, under `localhost/`
 * (where short names resolve first): a Debian root file system from debootstrap (from the mirror
 * this machine's apt uses), with this machine's Node and npm, a `node` user and this machine's CA
 * certificates for the one; with Debian sid's nats-server (the line the tag names, checked) for
 * the other. It prints the server version it ran.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { debianMirror, natsServerOfSuite } from '@brigade/testing';
import { freePort, REPO_ROOT } from './supervisor';
import { TOPOLOGY } from './topology';

const PROJECT = 'brigade-restaurant';
/** The base images as the Dockerfile and the compose file name them. */
const NODE_IMAGE = 'node:20-bookworm-slim';
const NATS_LINE = '2.15';
const NATS_IMAGE = `nats:${NATS_LINE}-alpine`;
const ORDERS = 6;
const HEALTHY_WITHIN_MS = 120_000;
const SERVED_WITHIN_MS = 90_000;

const { values: args } = parseArgs({ options: { keep: { type: 'boolean', default: false } } });

class Failure extends Error {}

/** Commands running now, which an interruption stops before tearing down. */
const running = new Set<ChildProcess>();

/** Runs a command to its end; its output is passed through, and a non-zero exit is a `Failure`. */
function run(command: string, argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    child.once('error', (err) => reject(new Failure(`${command}: ${err.message}`)));
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Failure(`${command} ${argv.join(' ')} exited with ${String(code)}`)),
    );
  });
}

/** Runs a command and returns what it printed; `undefined` when it failed. */
function read(
  command: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): string | undefined {
  const result = spawnSync(command, argv, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return result.status === 0 ? result.stdout : undefined;
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

function say(line: string): void {
  process.stdout.write(`containers: ${line}\n`);
}

/** What differs between Docker and Podman, and nothing else. */
interface Engine {
  readonly name: 'docker' | 'podman';
  readonly env: NodeJS.ProcessEnv;
  /** The compose command, with the project and file options. */
  compose(...argv: string[]): [string, string[]];
  /** Names of the project's containers with their state (`running`, `exited`, ...). */
  containers(): { name: string; state: string }[];
  /** True once the container's health check passes. */
  healthy(container: string): boolean;
}

function docker(): Engine {
  const env = {};
  return {
    name: 'docker',
    env,
    compose: (...argv) => ['docker', ['compose', '-p', PROJECT, ...argv]],
    containers: () => listContainers('docker', `label=com.docker.compose.project=${PROJECT}`, env),
    healthy: (container) =>
      read(
        'docker',
        ['inspect', '--format', '{{.State.Health.Status}}', container],
        env,
      )?.trim() === 'healthy',
  };
}

/**
 * Rootful Podman as this kind of machine has it: no CAP_SYS_RESOURCE (so default ulimits at the
 * hard limits), cgroups in hybrid mode (so runc, not crun), no systemd to run health checks
 * (so `podman healthcheck run`), and podman-compose 1.0.3, which ignores the top-level `name`.
 */
function podman(work: string): Engine {
  const nofile = read('sh', ['-c', 'ulimit -Hn'])?.trim() ?? '1048576';
  const nproc = Math.min(Number(read('sh', ['-c', 'ulimit -Hu'])?.trim() ?? 32768) || 32768, 32768);
  const conf = join(work, 'containers.conf');
  writeFileSync(
    conf,
    [
      '[containers]',
      `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
      '[engine]',
      'runtime = "runc"',
      '',
    ].join('\n'),
  );
  const env = { CONTAINERS_CONF: conf };
  return {
    name: 'podman',
    env,
    compose: (...argv) => ['podman-compose', ['-p', PROJECT, ...argv]],
    containers: () => listContainers('podman', `label=io.podman.compose.project=${PROJECT}`, env),
    healthy: (container) =>
      spawnSync('podman', ['healthcheck', 'run', container], { env: { ...process.env, ...env } })
        .status === 0,
  };
}

function listContainers(
  command: string,
  filter: string,
  env: NodeJS.ProcessEnv,
): { name: string; state: string }[] {
  const out =
    read(command, ['ps', '-a', '--filter', filter, '--format', '{{.Names}} {{.State}}'], env) ?? '';
  return out
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [name = '', state = ''] = line.trim().split(/\s+/);
      return { name, state: state.toLowerCase() };
    });
}

function chooseEngine(work: string): Engine {
  if (onPath('docker') && spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0)
    return docker();
  if (onPath('podman') && onPath('podman-compose')) return podman(work);
  throw new Failure(
    'no Docker engine, and no Podman: apt-get install -y podman podman-compose netavark aardvark-dns conmon runc catatonit iptables debootstrap (as root)',
  );
}

/** True when the engine pulls `image` by its short name (its own registries; none named here). */
async function pulled(image: string, engine: Engine): Promise<boolean> {
  const pull = spawn('podman', ['pull', '--quiet', image], {
    env: { ...process.env, ...engine.env },
    stdio: 'ignore',
  });
  const timer = setTimeout(() => pull.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => pull.once('close', resolve));
  clearTimeout(timer);
  return code === 0;
}

/** Makes the base images the Dockerfile and compose file name, when this machine has none. */
async function localBaseImages(engine: Engine, work: string): Promise<void> {
  const exists = (image: string): boolean =>
    spawnSync('podman', ['image', 'exists', image], { env: { ...process.env, ...engine.env } })
      .status === 0;
  const absent = [NODE_IMAGE, NATS_IMAGE].filter((image) => !exists(image));
  const missing: string[] = [];
  for (const image of absent) if (!(await pulled(image, engine))) missing.push(image);
  if (missing.length === 0) return;
  if (!onPath('debootstrap'))
    throw new Failure('no registry reachable and no debootstrap: apt-get install -y debootstrap');
  say(`no registry reachable: making ${missing.join(', ')} from Debian's packages`);
  if (missing.includes(NODE_IMAGE)) await nodeImage(engine, work);
  if (missing.includes(NATS_IMAGE)) await natsImage(engine, work);
}

/** A Debian bookworm minbase root file system, from the mirror this machine's apt uses. */
async function bootstrap(root: string, include: string[] = []): Promise<void> {
  const extra = include.length > 0 ? [`--include=${include.join(',')}`] : [];
  await run('debootstrap', ['--variant=minbase', ...extra, 'bookworm', root, debianMirror()]);
  rmSync(join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
}

async function importImage(
  root: string,
  image: string,
  changes: string[],
  engine: Engine,
): Promise<void> {
  const tar = `${root}.tar`;
  await run('tar', ['-C', root, '-cf', tar, '.']);
  await run(
    'podman',
    ['import', ...changes.flatMap((c) => ['--change', c]), tar, image],
    engine.env,
  );
  rmSync(tar, { force: true });
}

/** Debian minbase, this machine's Node and npm, a `node` user (uid 1000), the host's CAs. */
async function nodeImage(engine: Engine, work: string): Promise<void> {
  const root = join(work, 'node-root');
  await bootstrap(root);
  const node = read('sh', ['-c', 'readlink -f "$(command -v node)"'])?.trim() ?? '/usr/bin/node';
  const npm = join(read('sh', ['-c', 'readlink -f "$(command -v npm)"'])?.trim() ?? '', '..', '..');
  await run('mkdir', ['-p', join(root, 'usr/local/bin'), join(root, 'usr/local/lib/node_modules')]);
  await run('cp', [node, join(root, 'usr/local/bin/node')]);
  await run('cp', ['-a', npm, join(root, 'usr/local/lib/node_modules/npm')]);
  await run('ln', [
    '-sf',
    '../lib/node_modules/npm/bin/npm-cli.js',
    join(root, 'usr/local/bin/npm'),
  ]);
  await run('ln', [
    '-sf',
    '../lib/node_modules/npm/bin/npx-cli.js',
    join(root, 'usr/local/bin/npx'),
  ]);
  await run('chroot', [
    root,
    'sh',
    '-c',
    'groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/sh node',
  ]);
  // The registry's TLS certificate may come from this machine's own CA (an intercepting proxy).
  const bundle = '/etc/ssl/certs/ca-certificates.crt';
  if (existsSync(bundle)) {
    await run('mkdir', ['-p', join(root, 'etc/ssl/certs')]);
    await run('cp', [bundle, join(root, bundle)]);
  }
  await importImage(
    root,
    `localhost/${NODE_IMAGE}`,
    [
      'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin',
      `ENV NODE_EXTRA_CA_CERTS=${bundle}`,
      'CMD ["node"]',
    ],
    engine,
  );
  rmSync(root, { recursive: true, force: true });
}

/**
 * Debian minbase with wget for the health check and the nats-server of the line the image's tag
 * names: Debian sid's, fetched by the testing kit. When sid has moved past that line, it says to
 * move the tag along, rather than put another server under it.
 */
async function natsImage(engine: Engine, work: string): Promise<void> {
  const root = join(work, 'nats-root');
  await bootstrap(root, ['wget']);
  const server = natsServerOfSuite('sid');
  const version = read(server, ['--version'])?.trim() ?? '';
  if (!version.includes(`v${NATS_LINE}.`))
    throw new Failure(
      `the nats image is tagged ${NATS_LINE}, and Debian sid's server is ${version}: name its line in the compose files and here`,
    );
  await run('cp', [server, join(root, 'usr/sbin/nats-server')]);
  await importImage(
    root,
    `localhost/${NATS_IMAGE}`,
    ['ENTRYPOINT ["/usr/sbin/nats-server"]'],
    engine,
  );
  rmSync(root, { recursive: true, force: true });
}

/** The version of the nats-server the containers run, as it says itself to a client. */
async function natsVersion(port: string): Promise<string> {
  const nc = await connect({ servers: `127.0.0.1:${port}` });
  const version = nc.info?.version ?? 'unknown';
  await nc.close();
  return version;
}

/** The host ports to publish: the compose file's own, unless the host already uses them. */
async function hostPorts(): Promise<Record<string, string>> {
  const free = async (preferred: number): Promise<number> =>
    (await portIsFree(preferred)) ? preferred : freePort();
  return {
    NATS_HOST_PORT: String(await free(4222)),
    RECEPTION_HOST_PORT: String(await free(8080)),
  };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

async function waitUntil(
  what: string,
  ms: number,
  check: () => boolean | Promise<boolean>,
  engine: Engine,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const exited = engine.containers().filter((c) => c.state === 'exited' || c.state === 'dead');
    if (exited.length > 0) {
      // What they said last, before the teardown takes it away.
      for (const { name } of exited) {
        const logs = spawnSync(engine.name, ['logs', '--tail', '40', name], {
          env: { ...process.env, ...engine.env },
          encoding: 'utf8',
        });
        process.stderr.write(`--- ${name}, last lines:\n${logs.stdout}${logs.stderr}\n`);
      }
      throw new Failure(`container(s) exited: ${exited.map((c) => c.name).join(', ')}`);
    }
    if (await check()) return;
    if (Date.now() > deadline) throw new Failure(`${what}: not within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** Every container of the project running and healthy (each has a health check). */
async function allHealthy(engine: Engine, expected: number): Promise<void> {
  await waitUntil(
    `${expected} healthy containers`,
    HEALTHY_WITHIN_MS,
    () => {
      const containers = engine.containers();
      return containers.length === expected && containers.every((c) => engine.healthy(c.name));
    },
    engine,
  );
}

interface Order {
  id: string;
  status: string;
  cookedBy?: string;
}

async function placeOrders(base: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= ORDERS; i++) {
    const res = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: `Table ${i}`, items: [{ dish: 'bibimbap', quantity: 1 }] }),
    });
    const body = (await res.json()) as { id?: string; error?: string };
    if (res.status !== 202 || !body.id)
      throw new Failure(`POST /orders answered ${res.status}: ${JSON.stringify(body)}`);
    ids.push(body.id);
  }
  return ids;
}

async function orderOf(base: string, id: string): Promise<Order | undefined> {
  const res = await fetch(`${base}/orders/${id}`).catch(() => undefined);
  return res?.ok ? ((await res.json()) as Order) : undefined;
}

/** Runs the whole check; `cleanup` is set as soon as there is something to clean up. */
async function main(work: string, cleanup: { down?: () => Promise<void> }): Promise<void> {
  const engine = chooseEngine(work);
  say(`engine: ${engine.name}`);
  if (engine.name === 'podman') await localBaseImages(engine, work);
  const ports = await hostPorts();
  const env = { ...engine.env, ...ports };
  const compose = (...argv: string[]): Promise<void> => {
    const [command, full] = engine.compose(...argv);
    return run(command, full, env);
  };
  cleanup.down = async () => {
    await compose('down', '-v').catch(() => undefined);
    // podman-compose 1.0.3 leaves the project's network behind.
    if (engine.name === 'podman')
      spawnSync('podman', ['network', 'rm', '-f', `${PROJECT}_default`], {
        env: { ...process.env, ...env },
      });
  };

  const began = Date.now();
  say('building the images');
  await compose('build');
  // The services of the default profile, by name: podman-compose 1.0.3 knows no profiles.
  const services = ['nats', ...TOPOLOGY.map((s) => s.name)];
  say('starting the containers');
  await compose('up', '-d', ...services);
  const expected = engine.containers().length;
  await allHealthy(engine, expected);
  say(
    `${expected} containers healthy ${((Date.now() - began) / 1000).toFixed(0)} s after the build began`,
  );
  say(`nats-server ${await natsVersion(ports.NATS_HOST_PORT as string)} in the nats container`);

  const base = `http://127.0.0.1:${ports.RECEPTION_HOST_PORT as string}`;
  const ids = await placeOrders(base);
  let orders: Order[] = [];
  await waitUntil(
    `${ORDERS} orders served`,
    SERVED_WITHIN_MS,
    async () => {
      orders = (await Promise.all(ids.map((id) => orderOf(base, id)))).filter(
        (o): o is Order => o !== undefined,
      );
      return orders.length === ORDERS && orders.every((o) => o.status === 'served');
    },
    engine,
  );
  const kitchens = new Set(orders.map((o) => o.cookedBy));
  say(`${ORDERS} orders served, cooked by ${[...kitchens].join(' and ')}`);
  if (kitchens.size < 2)
    throw new Failure(`both kitchens should cook; only ${[...kitchens].join(', ')} did`);
  const page = await fetch(`${base}/`);
  const html = await page.text();
  if (!page.ok || !html.includes('<title>Reception'))
    throw new Failure(`reception's page in its image: ${page.status} ${html.slice(0, 120)}`);
  say(`reception's live page is served at ${base}/`);

  say('restarting the project (down, up): JetStream keeps its data on the volume');
  await compose('down');
  await compose('up', '-d', ...services);
  await allHealthy(engine, expected);
  const before = await orderOf(base, ids[0] as string);
  if (before?.status !== 'served')
    throw new Failure(`order ${ids[0] as string} after the restart: ${JSON.stringify(before)}`);
  say(`order ${ids[0] as string} still served after the restart`);

  imageFacts(engine);
  await scaffoldImage(engine, work);
  if (args.keep) {
    say(`kept running: ${base}; stop with: ${engine.compose('down', '-v').flat().join(' ')}`);
    cleanup.down = undefined;
  }
}

/**
 * A project of one's own, as the README's quick start makes it from this repository with no
 * registry holding Brigade (`brigade new payments --dir ...`, the packages packed into its
 * `vendor/`): its own Dockerfile builds, on the same base image, and the image holds Brigade.
 */
async function scaffoldImage(engine: Engine, work: string): Promise<void> {
  const parent = join(work, 'scaffold');
  await run(process.execPath, [
    join(REPO_ROOT, 'node_modules/typescript/bin/tsc'),
    '-b',
    'packages/cli',
  ]);
  await run(process.execPath, ['packages/cli/dist/main.js', 'new', 'payments', '--dir', parent]);
  const image = 'localhost/brigade-scaffold-payments:check';
  say('building the image of a project `brigade new` made outside the repository');
  try {
    await run(engine.name, ['build', '-t', image, join(parent, 'payments')], engine.env);
    const core = read(
      engine.name,
      ['run', '--rm', image, 'node', '-p', "require('@brigade/core/package.json').version"],
      engine.env,
    )?.trim();
    if (!core) throw new Failure(`${image} does not hold @brigade/core`);
    say(`${image} built from its own Dockerfile, with @brigade/core ${core} from its vendor/`);
  } finally {
    spawnSync(engine.name, ['rmi', '-f', image], { env: { ...process.env, ...engine.env } });
  }
}

/** Sizes of the app images, and that each runs as a non-root user without dev files. */
function imageFacts(engine: Engine): void {
  const env = engine.env;
  const images = (
    read(engine.name, ['images', '--format', '{{.Repository}}:{{.Tag}} {{.Size}}'], env) ?? ''
  )
    .split('\n')
    .filter((line) => line.includes(PROJECT) || line.includes(NATS_IMAGE));
  for (const line of images) say(`image ${line}`);
  const app = images.map((l) => l.split(' ')[0] as string).find((i) => i.includes('order'));
  if (!app) throw new Failure('no image of the order service was built');
  const uid = read(engine.name, ['run', '--rm', '--entrypoint', 'id', app, '-u'], env)?.trim();
  if (uid === undefined || uid === '0')
    throw new Failure(`${app} runs as root (uid ${String(uid)})`);
  const stray = read(
    engine.name,
    [
      'run',
      '--rm',
      '--entrypoint',
      'sh',
      app,
      '-c',
      'cd /repo && ls -d bench test scripts packages/*/src packages/*/test apps/*/src apps/*/test node_modules/mocha node_modules/typescript node_modules/ts-node 2>/dev/null; true',
    ],
    env,
  )?.trim();
  if (stray)
    throw new Failure(`${app} holds what only development needs: ${stray.split('\n').join(', ')}`);
  say(`${app} runs as uid ${uid}, without sources, specs, benchmark or dev dependencies`);
}

const work = mkdtempSync(join(tmpdir(), 'brigade-containers-'));
const cleanup: { down?: () => Promise<void> } = {};
let finishing: Promise<number> | undefined;
/** Tears down once, whoever asks first (a signal, or the end of `main`), then exits with its code. */
async function finish(code: number): Promise<never> {
  finishing ??= (async () => {
    // A build or an `up` still going would race the teardown: stop it first.
    await Promise.all(
      [...running].map((child) => {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT');
        return exited;
      }),
    );
    if (cleanup.down) {
      say('tearing down: containers, volumes, network');
      await cleanup.down();
    }
    rmSync(work, { recursive: true, force: true });
    return code;
  })();
  process.exit(await finishing);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    say(`${signal}: stopping`);
    void finish(130);
  });

main(work, cleanup).then(
  () => finish(0),
  (err: unknown) => {
    // Interrupted: what failed then is the interruption, said already.
    if (finishing) return;
    process.stderr.write(
      `containers: FAILED: ${err instanceof Failure ? err.message : String((err as Error).stack ?? err)}\n`,
    );
    void finish(1);
  },
);
