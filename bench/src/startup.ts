/**
 * One Brigade process with many handlers, for the scaling study:
 *   node bench/dist/startup.js <endpoint|durable> <handlers> <nats-url>
 * Defines a service with that many endpoints (or durable event handlers, each its own consumer
 * on one stream), starts it, waits a second idle, and prints one JSON line: how long the start
 * took (`Brigade.start` alone, and since the process began) and the resident memory then.
 */
import 'reflect-metadata';
import { Brigade, Endpoint, Service, Subscribe } from '@brigade/core';

const [kind = 'endpoint', countText = '1', url = 'nats://127.0.0.1:4222'] = process.argv.slice(2);
const count = Number(countText);

/** A service class with `count` handler methods, decorated as a hand-written one would be. */
function manyHandlers(): new () => object {
  class Many {}
  for (let i = 0; i < count; i++) {
    const name = `handler${i}`;
    Object.defineProperty(Many.prototype, name, {
      value: (body: unknown) => body,
      writable: true,
      configurable: true,
    });
    const descriptor = Object.getOwnPropertyDescriptor(Many.prototype, name) as PropertyDescriptor;
    const decorate =
      kind === 'durable'
        ? Subscribe(`scale.durable.${i}`, { durable: { stream: 'SCALE' } })
        : Endpoint(`scale.endpoint.${i}`);
    decorate(Many.prototype, name, descriptor);
  }
  Service({ name: 'scale' })(Many);
  return Many;
}

async function main(): Promise<void> {
  const service = manyHandlers();
  const began = performance.now();
  const app = await Brigade.start({
    services: [service],
    nats: { servers: url },
    logger: { level: 'warn' },
    streams: [{ name: 'SCALE', subjects: ['scale.durable.>'] }],
  });
  const startMs = performance.now() - began;
  const sinceProcessMs = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  process.stdout.write(
    `${JSON.stringify({ kind, handlers: count, startMs, sinceProcessMs, rssMb })}\n`,
  );
  await app.stop();
  process.exit(0);
}

void main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
