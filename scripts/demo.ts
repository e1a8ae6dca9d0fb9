/**
 * npm run demo [-- --keep] [-- --orders N]
 *
 * Runs the restaurant as separate processes: order, two kitchens, reception (HTTP) and audit,
 * against the NATS server at $NATS_URL, or a local nats-server with JetStream started for the
 * demo. Places a few orders through reception's HTTP API and shows each one moving through its
 * states, and which kitchen cooked it. Stops everything at the end, or on Ctrl-C; with --keep it
 * stays up for you to try with curl.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { NatsServer, waitFor } from '@brigade/testing';
import { freePort, REPO_ROOT, startProcess, type RunningProcess } from './supervisor';
import { TOPOLOGY } from './topology';

const json = JSONCodec();
const { values: args } = parseArgs({
  options: {
    keep: { type: 'boolean', default: false },
    orders: { type: 'string', default: '5' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run demo [-- --keep] [-- --orders N]');
  process.exit(0);
}
const ORDER_COUNT = Number(args.orders);
if (!Number.isInteger(ORDER_COUNT) || ORDER_COUNT < 1 || ORDER_COUNT > 100) {
  console.error('--orders takes a whole number from 1 to 100');
  process.exit(2);
}

const CUSTOMERS = ['Minji', 'Joon', 'Ara', 'Hyun', 'Seo', 'Dae', 'Yuna', 'Tae'];
const DISHES = ['bibimbap', 'bulgogi', 'kimchi', 'japchae', 'tteokbokki'];
const started = Date.now();
const processes: RunningProcess[] = [];
let server: NatsServer | undefined;
let nc: NatsConnection | undefined;
let stopping: Promise<void> | undefined;

function say(line: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  console.log(`${t}s  ${line}`);
}

async function main(): Promise<void> {
  say('building...');
  const build = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-b'],
    {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    },
  );
  if (build.status !== 0) throw new Error('the build failed');

  let natsUrl = process.env['NATS_URL'];
  if (natsUrl) {
    say(`using the NATS server at ${natsUrl}`);
  } else {
    server = await NatsServer.start({ jetstream: true }); // a temporary store, removed at the end
    natsUrl = server.url;
    say(`started nats-server with JetStream at ${natsUrl}`);
  }
  const port = Number(process.env['PORT'] ?? (await freePort()));
  const logDir = join(REPO_ROOT, '.demo', 'logs');
  nc = await connect({ servers: natsUrl, name: 'demo' });
  followEvents(nc);

  for (const service of TOPOLOGY) {
    for (let i = 1; i <= service.replicas; i++) {
      const label = service.replicas > 1 ? `${service.name}-${i}` : service.name;
      const env: Record<string, string> = {
        NATS_URL: natsUrl,
        COOK_MS_PER_DISH: process.env['COOK_MS_PER_DISH'] ?? '700',
      };
      if (service.name === 'kitchen') env['KITCHEN_ID'] = label;
      if (service.http) env['PORT'] = String(port);
      processes.push(startProcess(service, label, env, logDir));
      say(`started ${label} (${service.command.join(' ')})`);
    }
  }
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/health`)).ok, {
    timeout: 30_000,
    message: 'reception is up',
  });
  await waitFor(async () => (await pings(nc as NatsConnection, 'kitchen')) === 2, {
    timeout: 30_000,
    message: 'both kitchens are up',
  });
  await waitFor(async () => (await pings(nc as NatsConnection, 'order')) === 1, {
    timeout: 30_000,
    message: 'the order service is up',
  });
  say(`all services up; logs in .demo/logs/. Reception: ${base}`);
  console.log('');

  const ids: string[] = [];
  for (let i = 0; i < ORDER_COUNT; i++) {
    const items = [
      { dish: DISHES[i % DISHES.length] as string, quantity: 1 + (i % 2) },
      { dish: DISHES[(i + 2) % DISHES.length] as string, quantity: 1 },
    ];
    const customer = CUSTOMERS[i % CUSTOMERS.length] as string;
    const res = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer, items }),
    });
    const body = (await res.json()) as { id: string; total: number };
    if (res.status !== 202)
      throw new Error(`placing an order failed: ${res.status} ${JSON.stringify(body)}`);
    ids.push(body.id);
    const what = items.map((l) => `${l.quantity}x ${l.dish}`).join(', ');
    say(
      `HTTP POST /orders -> 202 order ${body.id} for ${customer}: ${what}, ${(body.total / 100).toFixed(2)} paid`,
    );
  }
  say('reception took every order without waiting for the kitchen');
  console.log('');

  const orders = await waitFor(
    async () => {
      const all = await Promise.all(
        ids.map(async (id) => (await (await fetch(`${base}/orders/${id}`)).json()) as Order),
      );
      return all.every((o) => o.status === 'served') ? all : undefined;
    },
    { timeout: 120_000, interval: 250, message: 'every order served' },
  );
  console.log('');
  say('every order served:');
  console.log('');
  console.log('  order     customer  cooked by   placed -> paid -> cooking -> cooked -> served');
  for (const o of orders) {
    const t0 = Date.parse(o.history[0]?.at ?? '');
    const steps = o.history
      .map((h) => `${h.status}+${((Date.parse(h.at) - t0) / 1000).toFixed(1)}s`)
      .join(' ');
    console.log(`  ${o.id}  ${o.customer.padEnd(8)}  ${(o.cookedBy ?? '?').padEnd(10)}  ${steps}`);
  }
  const audit = await nc.request('audit.summary', undefined, { timeout: 2_000 });
  console.log('');
  say(`audit trail (added without touching any other service): ${audit.string()}`);

  if (args.keep) {
    console.log(`
The restaurant keeps running. Try:
  curl -s ${base}/menu
  curl -s -X POST ${base}/orders -H 'content-type: application/json' \\
       -d '{"customer":"You","items":[{"dish":"bulgogi","quantity":2}]}'
  curl -s ${base}/orders/<id>
  NATS_URL=${natsUrl}  (any NATS client: nats req order.get '{"id":"<id>"}', nats micro ls)
Ctrl-C stops everything.`);
    await new Promise(() => undefined);
  }
}

interface Order {
  id: string;
  customer: string;
  status: string;
  cookedBy?: string;
  history: { status: string; at: string; by?: string }[];
}

function followEvents(conn: NatsConnection): void {
  conn.subscribe('orders.*', {
    callback: (_err, msg) => {
      const event = json.decode(msg.data) as { id: string; kitchen?: string };
      const status = msg.subject.slice('orders.'.length);
      const where = event.kitchen ? ` in ${event.kitchen}` : '';
      say(`  event orders.${status.padEnd(8)} order ${event.id}${where}`);
    },
  });
}

async function pings(conn: NatsConnection, name: string): Promise<number> {
  let count = 0;
  for await (const _ of await conn.services.client().ping(name)) count++;
  return count;
}

async function shutdown(code: number): Promise<void> {
  stopping ??= (async () => {
    console.log('');
    say('stopping every service (SIGTERM, graceful drain)...');
    await Promise.all(
      processes.map(async (p) => {
        const exit = await p.stop();
        say(`  ${p.label} exited with ${String(exit)}`);
      }),
    );
    await nc?.close();
    await server?.stop();
    say('stopped');
  })();
  await stopping;
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
main().then(
  () => shutdown(0),
  (err: unknown) => {
    console.error(`demo failed: ${(err as Error).message}`);
    void shutdown(1);
  },
);
