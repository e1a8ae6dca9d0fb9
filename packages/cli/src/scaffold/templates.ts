/** The files `brigade new <name>` writes, as functions of the name. */

export function pascalCase(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The tools a new project builds and tests with: the versions Brigade itself is tested with. */
export const TOOL_VERSIONS = {
  typescript: '~5.9.3',
  'ts-node': '^10.9.2',
  mocha: '^11.7.0',
  chai: '^4.5.0',
  '@types/chai': '^4.3.20',
  '@types/mocha': '^10.0.10',
  '@types/node': '^20.19.0',
} as const;

/**
 * Core's peer dependencies, named by a workspace app itself: `npm prune --omit=dev` (a Docker
 * build's) keeps a workspace package's peers only when something in production asks for them.
 */
export const PEER_VERSIONS = {
  'reflect-metadata': '^0.2.2',
  tsyringe: '^4.10.0',
} as const;

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The service, its entry point (a file of its own, so specs import the service alone) and its spec. */
function serviceFiles(name: string): Record<string, string> {
  const className = pascalCase(name);
  return {
    'src/main.ts': `import { Brigade } from '@brigade/core';
import { ${className}Service } from './${name}.service';

void Brigade.run({ services: [${className}Service] });
`,
    [`src/${name}.service.ts`]: `import { Bus, Endpoint, Service, Subscribe, ValidationError, type MessageContext } from '@brigade/core';

export interface Greeting {
  name: string;
}

/** The ${name} service. */
@Service({ name: '${name}', version: '0.1.0', description: 'The ${name} service' })
export class ${className}Service {
  private count = 0;

  constructor(private readonly bus: Bus) {}

  /** Request-response: \`nats req ${name}.greet '{"name":"Ada"}'\`. */
  @Endpoint('${name}.greet')
  greet(input: Greeting | undefined): { greeting: string } {
    if (typeof input?.name !== 'string' || input.name.length === 0) {
      throw new ValidationError('give a name, like {"name":"Ada"}');
    }
    return { greeting: \`Hello, \${input.name}!\` };
  }

  /** An event: each instance of the service shares them (queue group '${name}'). */
  @Subscribe('${name}.greeted')
  async greeted(event: Greeting, ctx: MessageContext): Promise<void> {
    this.count++;
    ctx.logger.info({ name: event.name, total: this.count }, 'greeted');
    await this.bus.publish('${name}.counted', { total: this.count });
  }
}
`,
    [`test/${name}.spec.ts`]: `import { expect } from 'chai';
import { Service, Subscribe, ValidationError } from '@brigade/core';
import { Cleanup, NatsServer, startApp, waitFor } from '@brigade/testing';
import { ${className}Service } from '../src/${name}.service';

const counted: number[] = [];

/** Stands in for another service listening to what ${name} publishes. */
@Service({ name: '${name}-listener' })
class Listener {
  @Subscribe('${name}.counted')
  onCounted(event: { total: number }): void {
    counted.push(event.total);
  }
}

describe('${name} service @integration', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('greets by request, and rejects a request without a name', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const app = cleanup.add(await startApp(server, { services: [${className}Service] }), (a) => a.stop());
    expect(await app.bus.request('${name}.greet', { name: 'Ada' })).to.deep.equal({ greeting: 'Hello, Ada!' });
    const invalid = await app.bus.request('${name}.greet', {}).catch((e: unknown) => e);
    expect(invalid).to.be.instanceOf(ValidationError);
  });

  it('counts greeted events and publishes the count', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const app = cleanup.add(await startApp(server, { services: [${className}Service, Listener] }), (a) => a.stop());
    await app.bus.publish('${name}.greeted', { name: 'Ada' });
    await app.bus.publish('${name}.greeted', { name: 'Grace' });
    await waitFor(() => counted.length === 2);
    expect(counted).to.deep.equal([1, 2]);
  });
});
`,
  };
}

/** apps/<name> of a Brigade workspace: built by the workspace's `tsc -b`, tested with its own script. */
export function workspaceAppFiles(name: string, version: string): Record<string, string> {
  return {
    'package.json': json({
      name: `@app/${name}`,
      version: '0.1.0',
      private: true,
      main: './dist/main.js',
      scripts: {
        start: 'node dist/main.js',
        test: "mocha --no-config --require ts-node/register/transpile-only --extension ts --timeout 20000 'test/**/*.spec.ts'",
      },
      dependencies: { '@brigade/core': `^${version}`, ...PEER_VERSIONS },
      devDependencies: { '@brigade/testing': `^${version}` },
    }),
    'tsconfig.json': json({
      extends: '../../tsconfig.base.json',
      compilerOptions: {
        composite: true,
        rootDir: 'src',
        outDir: 'dist',
        tsBuildInfoFile: 'dist/.tsbuildinfo',
      },
      include: ['src'],
      references: [{ path: '../../packages/core' }],
    }),
    ...serviceFiles(name),
  };
}

/** The Brigade packages a project of its own depends on. */
export const BRIGADE_PACKAGES = ['@brigade/core', '@brigade/testing', '@brigade/cli'] as const;

/**
 * Where a project of its own gets each Brigade package: a registry version range, or a tarball
 * copied into its `vendor/` folder (named by a relative `file:` path, so the project and its
 * image need nothing else).
 */
export type PackageSources = Readonly<Record<(typeof BRIGADE_PACKAGES)[number], string>>;

/** Registry versions of the Brigade packages: `^version`. */
export function registrySources(version: string): PackageSources {
  return {
    '@brigade/core': `^${version}`,
    '@brigade/testing': `^${version}`,
    '@brigade/cli': `^${version}`,
  };
}

/** A project of its own: everything to build, test, run, watch and containerise the service. */
export function standaloneFiles(name: string, sources: PackageSources): Record<string, string> {
  const vendored = Object.values(sources).some((s) => s.startsWith('file:'));
  return {
    'package.json': json({
      name,
      version: '0.1.0',
      private: true,
      main: './dist/main.js',
      engines: { node: '>=20.11' },
      scripts: {
        build: 'tsc',
        start: 'node dist/main.js',
        dev: 'node --watch -r ts-node/register/transpile-only src/main.ts',
        test: 'mocha',
      },
      dependencies: { '@brigade/core': sources['@brigade/core'] },
      devDependencies: {
        '@brigade/cli': sources['@brigade/cli'],
        '@brigade/testing': sources['@brigade/testing'],
        ...TOOL_VERSIONS,
      },
    }),
    'tsconfig.json': json({
      compilerOptions: {
        target: 'ES2022',
        module: 'Node16',
        moduleResolution: 'Node16',
        strict: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        esModuleInterop: true,
        skipLibCheck: true,
        sourceMap: true,
        types: ['node', 'mocha'],
        rootDir: 'src',
        outDir: 'dist',
      },
      include: ['src'],
    }),
    '.mocharc.json': json({
      require: ['ts-node/register'],
      extension: ['ts'],
      spec: ['test/**/*.spec.ts'],
      timeout: 20000,
    }),
    ...serviceFiles(name),
    Dockerfile: `# The service's image: \`docker build -t ${name} .\` (or \`docker compose up --build\`).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json* ./
${vendored ? '# The Brigade packages, copied in by `brigade new` (they are named by file: paths).\nCOPY vendor ./vendor\n' : ''}RUN npm install --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
CMD ["node", "dist/main.js"]
`,
    '.dockerignore': 'node_modules\ndist\n',
    'docker-compose.yml': `# The service with a NATS server (JetStream on): \`docker compose up --build\`.
services:
  nats:
    image: nats:2.15-alpine
    command: ['--jetstream', '--store_dir', '/data', '--http_port', '8222']
    ports:
      - '4222:4222'
    volumes:
      - nats-data:/data
    healthcheck:
      test: "wget -q -O /dev/null 'http://127.0.0.1:8222/healthz?js-enabled-only=true'"
      interval: 2s
      timeout: 2s
      retries: 15

  ${name}:
    build: .
    environment:
      NATS_URL: nats://nats:4222
    depends_on:
      nats: { condition: service_healthy }
    restart: unless-stopped

volumes:
  nats-data:
`,
    '.gitignore': 'node_modules/\ndist/\n',
    'README.md': `# ${name}

A Brigade service on NATS (Brigade's own guide: \`node_modules/@brigade/core/README.md\`, once
installed).${vendored ? '\n\nThe Brigade packages are in `vendor/` (copied there by `brigade new` from a Brigade\nrepository, since they were not taken from a registry); keep that folder with the project.' : ''}

\`\`\`sh
npm install
npm test            # starts its own nats-server per spec (Debian/Ubuntu: apt-get install -y nats-server)
npm run dev         # runs src/main.ts against $NATS_URL (default nats://127.0.0.1:4222), restarting on change
npm run build && npm start
docker compose up --build   # the service and a NATS server with JetStream
\`\`\`

Try it while it runs:

\`\`\`sh
npx brigade ls
npx brigade request ${name}.greet '{"name":"Ada"}'
npx brigade publish ${name}.greeted '{"name":"Ada"}'
\`\`\`

\`src/${name}.service.ts\` holds the handlers, \`src/main.ts\` starts them (a file of its own, so
specs import the service without starting it), \`test/${name}.spec.ts\` tests them against a real
server.
`,
  };
}

export function dockerfileTarget(name: string): string {
  return `
FROM runtime AS ${name}
CMD ["node", "apps/${name}/dist/main.js"]
`;
}
