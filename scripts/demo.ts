/**
 * npm run demo [-- --keep] [-- --orders N]
 *
 * Runs the restaurant as separate processes: order, two kitchens, reception (HTTP and its live
 * page) and audit, with the Brigade dashboard beside them, against the NATS server at $NATS_URL,
 * or a local nats-server with JetStream started for the demo. Places a few orders through
 * reception's HTTP API and shows each one moving through its states, and which kitchen cooked
 * it; then one poison order, which ends in the dead letters. Stops everything at the end, or on
 * Ctrl-C; with --keep it stays up for you to watch in a browser and try with curl.
 */
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, headers as natsHeaders, JSONCodec, type NatsConnection } from 'nats';
import { NatsServer, newestNatsServer, waitFor } from '@brigade/testing';
import { freePort, REPO_ROOT, startProcess, type RunningProcess } from './supervisor';
import { dashboardProcess, TOPOLOGY } from './topology';

const json = JSONCodec();
const USAGE = 'usage: npm run demo [-- --keep] [-- --orders N]';
const args = (() => {
  try {
    return parseArgs({
      options: {
        keep: { type: 'boolean', default: false },
        orders: { type: 'string', default: '5' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
})();
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const ORDER_COUNT = Number(args.orders);
if (!Number.isInteger(ORDER_COUNT) || ORDER_COUNT < 1 || ORDER_COUNT > 100) {
  console.error('--orders takes a whole number from 1 to 100');
  process.exit(2);
}

const CUSTOMERS = ['Minji', 'Joon', 'Ara', 'Hyun', 'Seo', 'Dae', 'Yuna', 'Tae'];
const DISHES = ['bibimbap', 'bulgogi', 'kimchi', 'japchae', 'tteokbokki'];
/** Not on the menu: the poison order's dish, which no kitchen can cook. */
const POISON_DISH = 'sannakji';
const started = Date.now();
const processes: RunningProcess[] = [];
const opsPorts: number[] = [];
let server: NatsServer | undefined;
let nc: NatsConnection | undefined;
let stopping: Promise<void> | undefined;
/** The signal that stopped the demo, once one did: what fails after it is the stop, not a fault. */
let stoppedBy: NodeJS.Signals | undefined;
/** Where this run's service logs go, each started empty. */
const logDir = process.env['DEMO_LOG_DIR'] ?? join(REPO_ROOT, '.demo', 'logs');

/** False once stdout is gone (the terminal closed, the pipe's reader quit): the demo then stops. */
let canPrint = true;

function say(line: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  if (canPrint) console.log(`${t}s  ${line}`);
}

/**
 * Waits for `condition` while the services start; a service that exits meanwhile fails the demo
 * at once, with what it said last.
 */
async function whileStarting(condition: () => Promise<boolean>, what: string): Promise<void> {
  const exits = processes.map(async (p) => {
    const code = await p.exited;
    throw new Error(
      `${p.label} exited with ${String(code)} while starting: ${p.lastError ?? `see ${relative(process.cwd(), join(logDir, `${p.label}.log`))}`}`,
    );
  });
  const ready = waitFor(async () => condition().catch(() => false), {
    timeout: 30_000,
    message: what,
  });
  for (const exit of exits) exit.catch(() => undefined); // a later, orderly exit is no failure
  await Promise.race([ready, ...exits]);
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
    // A temporary store, removed at the end; its own process group, so that a Ctrl-C reaches only
    // this runner, which stops the server after the services drained.
    const newest = newestNatsServer();
    if (newest.fallback) say(`${newest.fallback}: using ${newest.binary}`);
    server = await NatsServer.start({
      jetstream: true,
      ownProcessGroup: true,
      binary: newest.binary,
    });
    natsUrl = server.url;
    say(`started nats-server with JetStream at ${natsUrl}`);
  }
  const port = Number(process.env['PORT'] ?? (await freePort()));
  nc = await connect({ servers: natsUrl, name: 'demo' });
  say(
    `nats-server ${nc.info?.version ?? 'of an unknown version'} (see README, Servers and features)`,
  );
  followEvents(nc);

  for (const service of TOPOLOGY) {
    for (let i = 1; i <= service.replicas; i++) {
      const label = service.replicas > 1 ? `${service.name}-${i}` : service.name;
      const env: Record<string, string> = {
        NATS_URL: natsUrl,
        COOK_MS_PER_DISH: process.env['COOK_MS_PER_DISH'] ?? '700',
        // Short, so that an order still waiting (the poison order) is marked late while you watch.
        ORDER_LATE_AFTER: process.env['ORDER_LATE_AFTER'] ?? '10s',
      };
      if (service.name === 'kitchen') {
        env['KITCHEN_ID'] = label;
        // The poison order goes to the dead letters in about a second, not after minutes.
        env['COOK_ATTEMPTS'] = '3';
        env['COOK_RETRY_BACKOFF'] = '300ms';
      }
      if (service.http) env['PORT'] = String(port);
      // Each serves its readiness probe on a port of its own: the demo waits for those.
      const opsPort = await freePort();
      env['BRIGADE_OPS_PORT'] = String(opsPort);
      opsPorts.push(opsPort);
      processes.push(startProcess(service, label, env, logDir, true));
      say(
        `started ${label} (${service.command.join(' ')}, pid ${String(processes.at(-1)?.child.pid)})`,
      );
    }
  }
  const dashboardPort = Number(process.env['DASHBOARD_PORT'] ?? (await freePort()));
  const dashboard = `http://127.0.0.1:${dashboardPort}/`;
  const dashboardService = dashboardProcess('--allow-actions', '--port', String(dashboardPort));
  processes.push(startProcess(dashboardService, 'dashboard', { NATS_URL: natsUrl }, logDir, true));
  say(
    `started dashboard (${dashboardService.command.join(' ')}, pid ${String(processes.at(-1)?.child.pid)})`,
  );
  const base = `http://127.0.0.1:${port}`;
  await whileStarting(async () => {
    const probes = opsPorts.map((p) => fetch(`http://127.0.0.1:${p}/readyz`).then((r) => r.ok));
    probes.push(fetch(`${dashboard}api/snapshot`).then((r) => r.ok));
    return (await Promise.all(probes)).every(Boolean);
  }, 'every service is ready (/readyz) and the dashboard answers');
  say(`all services up; this run's logs in ${relative(REPO_ROOT, logDir) || logDir}/`);
  if (args.keep) {
    say(`reception's live page: ${base}/`);
    say(`Brigade dashboard:     ${dashboard}`);
  } else {
    say('(the demo stops by itself once the orders are served: `-- --keep` keeps it up to watch)');
  }
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
  console.log('');
  await poisonOrder(nc, dashboard);

  if (args.keep) {
    console.log(`
The restaurant keeps running. Watch it in a browser:
  reception's live page  ${base}/
  Brigade dashboard      ${dashboard}

Or try:
  curl -s ${base}/menu
  curl -s -X POST ${base}/orders -H 'content-type: application/json' \\
       -d '{"customer":"You","items":[{"dish":"bulgogi","quantity":2}]}'
  curl -s ${base}/orders/<id>

And on the bus (any NATS client works too: NATS_URL=${natsUrl}):
  NATS_URL=${natsUrl} npx brigade ls
  NATS_URL=${natsUrl} npx brigade info kitchen
  NATS_URL=${natsUrl} npx brigade stats order
  NATS_URL=${natsUrl} npx brigade request order.get '{"id":"<id>"}'
  NATS_URL=${natsUrl} npx brigade dlq ls
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

/**
 * A mistake made on purpose: an order is created, then its payment published by hand with a dish
 * that is not on the menu (reception would have refused it). Every kitchen fails to cook it, it
 * is retried and lands in the dead letters, where the dashboard shows it.
 */
async function poisonOrder(conn: NatsConnection, dashboard: string): Promise<void> {
  const created = await conn.request(
    'order.create',
    json.encode({ customer: 'Mistake', items: [{ dish: 'kimchi', quantity: 1 }] }),
    { timeout: 5_000 },
  );
  const order = json.decode(created.data) as { id: string; total: number };
  const hdrs = natsHeaders();
  hdrs.set('order-id', order.id);
  const paid = {
    id: order.id,
    items: [{ dish: POISON_DISH, quantity: 1 }],
    total: order.total,
    at: new Date().toISOString(),
  };
  await conn.jetstream().publish('orders.paid', json.encode(paid), {
    headers: hdrs,
    msgID: `paid-${order.id}`,
  });
  say(`poison order ${order.id}: paid by hand for '${POISON_DISH}', a dish not on the menu`);
  const letter = await waitFor(
    async () => {
      const res = await fetch(`${dashboard}api/snapshot`);
      const snapshot = (await res.json()) as {
        deadLetters: {
          letters: {
            sequence: number;
            reason: string;
            attempts: number;
            origin: { subject: string };
          }[];
        };
      };
      return snapshot.deadLetters.letters.find((l) => l.reason.includes(POISON_DISH));
    },
    { timeout: 30_000, interval: 250, message: 'the poison order in the dead letters' },
  );
  say(
    `  dead letter ${letter.sequence} after ${letter.attempts} attempts: ${letter.reason} (on the dashboard)`,
  );
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

/** Exit codes of a run stopped by a signal, as a shell reports them (128 + its number). */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
};

/** A signal stops the demo at any moment: said as such, never as a failure. */
function stopOn(signal: NodeJS.Signals): void {
  stoppedBy ??= signal;
  void shutdown(SIGNAL_EXIT[signal] ?? 1);
}

async function shutdown(code: number): Promise<void> {
  stopping ??= (async () => {
    console.log('');
    if (stoppedBy) say(`${stoppedBy === 'SIGINT' ? 'Ctrl-C' : stoppedBy}: the demo was stopped`);
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

process.on('SIGINT', () => stopOn('SIGINT'));
process.on('SIGTERM', () => stopOn('SIGTERM'));
// The terminal closed: stop everything all the same, the temporary store included.
process.on('SIGHUP', () => stopOn('SIGHUP'));
process.stdout.on('error', () => {
  canPrint = false;
  void shutdown(0);
});
main().then(
  () => shutdown(0),
  (err: unknown) => {
    // After a signal, what broke (a fetch, a service that exited) is the stop itself.
    if (stoppedBy || stopping) return;
    if (canPrint) console.error(`demo failed: ${(err as Error).message}`);
    void shutdown(1);
  },
);
