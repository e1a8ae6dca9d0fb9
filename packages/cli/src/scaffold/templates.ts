/** The files `brigade new <name>` writes, as functions of the name. */

export function pascalCase(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

export function appFiles(name: string): Record<string, string> {
  const className = pascalCase(name);
  return {
    'package.json': `${JSON.stringify(
      {
        name: `@app/${name}`,
        version: '0.1.0',
        private: true,
        main: './dist/main.js',
        scripts: { start: 'node dist/main.js' },
        dependencies: { '@brigade/core': '0.1.0', 'reflect-metadata': '^0.2.2' },
        devDependencies: { '@brigade/testing': '0.1.0' },
      },
      null,
      2,
    )}\n`,
    'tsconfig.json': `${JSON.stringify(
      {
        extends: '../../tsconfig.base.json',
        compilerOptions: {
          composite: true,
          rootDir: 'src',
          outDir: 'dist',
          tsBuildInfoFile: 'dist/.tsbuildinfo',
        },
        include: ['src'],
        references: [{ path: '../../packages/core' }],
      },
      null,
      2,
    )}\n`,
    'src/main.ts': `import 'reflect-metadata';
import { Brigade } from '@brigade/core';
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

export function dockerfileTarget(name: string): string {
  return `
FROM runtime AS ${name}
CMD ["node", "apps/${name}/dist/main.js"]
`;
}
