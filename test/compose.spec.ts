import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { TOPOLOGY } from '../scripts/topology';
import { composeProblems } from './support/compose-schema';

const ROOT = join(__dirname, '..');

interface ComposeService {
  image?: string;
  profiles?: string[];
  build?: { context: string; dockerfile: string; target: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string | string[] };
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};

/** A compose value with `${NAME:-default}` and `${NAME}` filled in from `env`, as compose does. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g,
    (_m, name: string, fallback?: string) => env[name] || (fallback ?? ''),
  );
}

/** The exec-form CMD of each `FROM … AS <target>` stage of the Dockerfile. */
function dockerfileCommands(): Map<string, string[]> {
  const commands = new Map<string, string[]>();
  let stage = '';
  for (const line of readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n')) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
    if (from) stage = from[1] as string;
    const cmd = /^CMD\s+(\[.*\])\s*$/.exec(line);
    if (cmd) commands.set(stage, JSON.parse(cmd[1] as string) as string[]);
  }
  return commands;
}

describe('docker-compose.yml', () => {
  it('is valid by the Compose Specification, as is the cluster variant', () => {
    for (const file of ['docker-compose.yml', 'docker-compose.cluster.yml'])
      expect(composeProblems(readFileSync(join(ROOT, file), 'utf8')), file).to.deep.equal([]);
  });

  it('runs nats with JetStream, a volume and a health check', () => {
    const nats = compose.services['nats'];
    expect(nats?.image).to.match(/^nats:/);
    expect(nats?.command).to.include('--jetstream');
    const [volume, mount] = (nats?.volumes?.[0] ?? '').split(':');
    expect(mount).to.equal(nats?.command?.[(nats.command.indexOf('--store_dir') ?? -2) + 1]);
    expect(compose.volumes).to.have.property(volume as string);
    expect([nats?.healthcheck?.test].flat().join(' ')).to.include('/healthz');
  });

  it('has every service of the local topology, and builds every other one from this repository', () => {
    expect(Object.keys(compose.services)).to.include.members([
      'nats',
      ...TOPOLOGY.map((s) => s.name),
    ]);
    for (const [name, entry] of Object.entries(compose.services)) {
      if (name === 'nats' || entry.profiles !== undefined) continue;
      expect(entry.build?.target, name).to.equal(name);
      expect(entry.command, name).to.deep.equal(['node', `apps/${name}/dist/main.js`]);
      expect(dockerfileCommands().get(name), name).to.deep.equal(entry.command);
    }
  });

  it('adds Prometheus, scraping every service on its ops port, and Jaeger under the profile observability', () => {
    const tools = Object.entries(compose.services).filter(([, e]) => e.profiles !== undefined);
    expect(tools.map(([name]) => name).sort()).to.deep.equal(['jaeger', 'prometheus']);
    for (const [name, entry] of tools) {
      expect(entry.profiles, name).to.deep.equal(['observability']);
      expect(entry.image, `${name}: a pinned image`).to.match(/:v?\d+\.\d+\.\d+$/);
    }
    const mount = compose.services['prometheus']?.volumes?.[0]?.split(':') ?? [];
    expect(mount[1]).to.equal('/etc/prometheus/prometheus.yml');
    const config = parse(readFileSync(join(ROOT, mount[0] as string), 'utf8')) as {
      scrape_configs: { dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    const discovery = config.scrape_configs[0]?.dns_sd_configs[0];
    expect(discovery?.names).to.have.members(TOPOLOGY.map((s) => s.name));
    for (const service of TOPOLOGY)
      expect(compose.services[service.name]?.environment?.['BRIGADE_OPS_PORT']).to.equal(
        String(discovery?.port),
      );
  });

  for (const service of TOPOLOGY) {
    describe(service.name, () => {
      const entry = compose.services[service.name] as ComposeService;

      it('builds its app from the monorepo', () => {
        expect(entry.build).to.deep.equal({
          context: '.',
          dockerfile: 'Dockerfile',
          target: service.name,
        });
        expect(existsSync(join(ROOT, entry.build?.dockerfile ?? ''))).to.equal(true);
        expect(existsSync(join(ROOT, 'apps', service.name, 'src', 'main.ts'))).to.equal(true);
      });

      it('runs the command the local runner runs, in compose and in its image', () => {
        expect(entry.command).to.deep.equal(service.command);
        expect(dockerfileCommands().get(service.name)).to.deep.equal(service.command);
      });

      it('reaches NATS by its service name and waits for it to be healthy', () => {
        expect(entry.environment?.['NATS_URL']).to.equal('nats://nats:4222');
        expect(entry.depends_on).to.deep.equal({ nats: { condition: 'service_healthy' } });
      });

      it('exports its spans to the bundled Jaeger with no variable set, else where OTEL_EXPORTER_OTLP_ENDPOINT says', () => {
        const endpoint = entry.environment?.['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? '';
        expect(interpolate(endpoint, {})).to.equal('http://jaeger:4318');
        expect(interpolate(endpoint, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' })).to.equal(
          'http://otel:4318',
        );
        // Jaeger takes OTLP over HTTP on 4318 there.
        const jaeger = compose.services['jaeger'];
        expect(jaeger?.environment?.['COLLECTOR_OTLP_ENABLED']).to.equal('true');
        expect(jaeger?.image).to.match(/^jaegertracing\/all-in-one:1\./);
      });

      it('is healthy when its readiness probe says so, on its ops port', () => {
        const port = entry.environment?.['BRIGADE_OPS_PORT'];
        expect(port).to.match(/^\d+$/);
        expect([entry.healthcheck?.test].flat().join(' ')).to.include(
          `http://127.0.0.1:${port as string}/readyz`,
        );
      });

      it(`runs ${service.replicas} replica(s)`, () => {
        expect(entry.deploy?.replicas ?? 1).to.equal(service.replicas);
      });

      if (service.http) {
        it('publishes its HTTP port', () => {
          const port = entry.environment?.['PORT'];
          expect(port).to.match(/^\d+$/);
          // On the same host port, unless RECEPTION_HOST_PORT says another.
          expect(entry.ports).to.deep.equal([
            `\${RECEPTION_HOST_PORT:-${port as string}}:${port as string}`,
          ]);
        });
      }
    });
  }

  describe('the 3-node cluster variant (docker-compose.cluster.yml)', () => {
    const cluster = parse(readFileSync(join(ROOT, 'docker-compose.cluster.yml'), 'utf8')) as {
      services: Record<string, ComposeService>;
      volumes: Record<string, unknown>;
    };
    const nodes = ['nats', 'nats-2', 'nats-3'];
    const flag = (command: string[] | undefined, name: string): string | undefined =>
      command?.[command.indexOf(name) + 1];

    it('runs three JetStream nodes of one cluster, routed to each other, each with its own volume', () => {
      const names = nodes.map((n) => flag(cluster.services[n]?.command, '--server_name'));
      expect(new Set(names).size).to.equal(3);
      const mounts = new Set<string>();
      for (const node of nodes) {
        const command = cluster.services[node]?.command;
        expect(command, node).to.include('--jetstream');
        expect(flag(command, '--cluster_name'), node).to.equal('restaurant');
        const routes = flag(command, '--routes')?.split(',');
        expect(routes, node).to.deep.equal(nodes.map((n) => `nats://${n}:6222`));
        const volumes = cluster.services[node]?.volumes ?? compose.services[node]?.volumes ?? [];
        const [volume] = (volumes[0] ?? '').split(':');
        expect({ ...compose.volumes, ...cluster.volumes }, node).to.have.property(volume as string);
        mounts.add(volume as string);
      }
      expect(mounts.size).to.equal(3);
    });

    it('replicates the restaurant three times and points every app at every node', () => {
      for (const service of TOPOLOGY) {
        const entry = cluster.services[service.name];
        expect(entry?.environment?.['STREAM_REPLICAS'], service.name).to.equal('3');
        expect(entry?.environment?.['NATS_URL']?.split(','), service.name).to.deep.equal(
          nodes.map((n) => `nats://${n}:4222`),
        );
        expect(Object.keys(entry?.depends_on ?? {}), service.name).to.deep.equal(nodes);
      }
    });
  });
});
