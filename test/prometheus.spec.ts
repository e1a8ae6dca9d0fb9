import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrigadeClient, Endpoint, Service } from '@brigade/core';
import { Cleanup, fetchDebianProgram, NatsServer, startApp, waitFor } from '@brigade/testing';
import { freePort } from '../scripts/supervisor';

/**
 * `PROMETHEUS_BIN`, else an installed `prometheus` (Debian's: 2.42 on bookworm), else, on a
 * Debian or Ubuntu machine, the distribution's package fetched once into a cache and unpacked
 * (a static binary: it runs from there, no root, nothing installed).
 */
function prometheusBinary(): string {
  const candidates = [process.env['PROMETHEUS_BIN'], '/usr/bin/prometheus'];
  const onPath = spawnSync('sh', ['-c', 'command -v prometheus'], {
    encoding: 'utf8',
  }).stdout.trim();
  const found = [...candidates, onPath].find((p) => p !== undefined && p !== '' && existsSync(p));
  if (found) return found;
  try {
    const fetched = fetchDebianProgram({ package: 'prometheus', program: 'usr/bin/prometheus' });
    console.log(
      `      prometheus is not installed: using Debian's package, unpacked in ${fetched}`,
    );
    return fetched;
  } catch (err) {
    throw new Error(
      `prometheus not found, nor could the distribution's be fetched (${(err as Error).message}): apt-get install -y prometheus, or set PROMETHEUS_BIN`,
    );
  }
}

/** A Prometheus server of the spec's own, scraping `targets` every second. */
class Prometheus {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
    private readonly output: string[],
  ) {}

  static async start(targets: string[]): Promise<Prometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'brigade-prometheus-'));
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'scrape_configs:',
        '  - job_name: brigade',
        `    static_configs: [{ targets: [${targets.map((t) => `'${t}'`).join(', ')}] }]`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const child = spawn(
      prometheusBinary(),
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output: string[] = [];
    for (const stream of [child.stdout, child.stderr])
      stream?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    const prometheus = new Prometheus(child, dir, `http://127.0.0.1:${port}`, output);
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited: ${output.join('')}`);
        return (await fetch(`${prometheus.url}/-/ready`)).ok;
      },
      { timeout: 20_000, message: () => `prometheus is ready (${output.join('').slice(-500)})` },
    );
    return prometheus;
  }

  /** The instant vector `query` evaluates to, through the HTTP query API. */
  async query(query: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`query ${query} failed: ${body.error ?? ''}`);
    return (body.data?.result ?? []).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

@Service({ name: 'scraped' })
class Scraped {
  @Endpoint('scraped.price')
  price(): number {
    return 9;
  }
}

describe('metrics scraped by a real Prometheus server @integration', function () {
  this.timeout(60_000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('reads back what a service processed through the query API', async () => {
    const server = cleanup.add(await NatsServer.start(), (s) => s.stop());
    const app = cleanup.add(
      await startApp(server, { services: [Scraped], ops: { port: 0, host: '127.0.0.1' } }),
      (a) => a.stop(),
    );
    const client = cleanup.add(
      await BrigadeClient.connect({ nats: { servers: server.url }, logger: { level: 'silent' } }),
      (c) => c.close(),
    );
    for (let i = 0; i < 7; i++) await client.bus.request('scraped.price', {});
    const target = `127.0.0.1:${app.opsPort as number}`;
    const prometheus = cleanup.add(await Prometheus.start([target]), (p) => p.stop());

    const up = await waitFor(async () => (await prometheus.query('up{job="brigade"}'))[0], {
      timeout: 20_000,
      message: 'prometheus scraped the app',
    });
    expect(up).to.deep.include({ value: 1 });
    expect(up.metric).to.include({ instance: target });

    const processed = await waitFor(
      async () => {
        const [sample] = await prometheus.query(
          'messaging_process_duration_seconds_count{service="scraped",handler="price",error_type=""}',
        );
        return sample?.value === 7 ? sample : undefined;
      },
      { timeout: 20_000, message: 'the 7 requests are in Prometheus' },
    );
    expect(processed.metric).to.include({
      messaging_system: 'nats',
      messaging_destination_name: 'scraped.price',
      messaging_operation_name: 'process',
      messaging_consumer_group_name: 'q',
    });
    // A histogram Prometheus can compute quantiles of.
    const [p99] = await prometheus.query(
      'histogram_quantile(0.99, sum by (le) (messaging_process_duration_seconds_bucket{handler="price"}))',
    );
    expect(p99?.value).to.be.greaterThan(0).and.lessThan(1);
    const [connected] = await prometheus.query('brigade_nats_connection_state{state="connected"}');
    expect(connected?.value).to.equal(1);
  });
});
