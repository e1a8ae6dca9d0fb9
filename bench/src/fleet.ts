/**
 * Many instances of one service in one process, for the discovery study:
 *   node bench/dist/fleet.js <instances> <nats-url>
 * Starts that many Brigade apps of the service `fleet` (each its own connection and NATS Service
 * API instance) and prints "ready".
 */
import 'reflect-metadata';
import { Brigade, Endpoint, Service, Subscribe, type BrigadeApp } from '@brigade/core';

const [countText = '10', url = 'nats://127.0.0.1:4222'] = process.argv.slice(2);

@Service({ name: 'fleet', version: '1.0.0', description: 'an instance among many' })
class Fleet {
  @Endpoint('fleet.echo')
  echo(body: unknown): unknown {
    return body;
  }

  @Subscribe('fleet.event')
  event(): void {}
}

async function main(): Promise<void> {
  const apps: BrigadeApp[] = [];
  for (let i = 0; i < Number(countText); i++)
    apps.push(
      await Brigade.start({ services: [Fleet], nats: { servers: url }, logger: { level: 'warn' } }),
    );
  process.stdout.write('ready\n');
  process.once(
    'SIGINT',
    () => void Promise.all(apps.map((a) => a.stop())).then(() => process.exit(0)),
  );
}

void main();
