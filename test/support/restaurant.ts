import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { waitFor, type Cleanup } from '@brigade/testing';
import { freePort, REPO_ROOT, startProcess, type RunningProcess } from '../../scripts/supervisor';
import { TOPOLOGY } from '../../scripts/topology';

/** Where the specs' service processes write their output. */
export const TEST_LOGS = join(REPO_ROOT, '.demo', 'test-logs');

export interface Order {
  id: string;
  status: string;
  cookedBy?: string;
  /** When its late check found it not served. */
  late?: string;
  history: { status: string; at: string }[];
}

export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** The restaurant's services as separate processes on a given NATS, and a client of each side. */
export class Restaurant {
  readonly running = new Map<string, RunningProcess>();

  private constructor(
    private readonly cleanup: Cleanup,
    readonly natsUrl: string,
    readonly port: number,
    /** A plain nats client on the same servers. */
    readonly nc: NatsConnection,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts every service of the topology (kitchens as kitchen-1, kitchen-2) and waits for them. */
  static async open(
    cleanup: Cleanup,
    natsUrl: string,
    env: Record<string, string> = {},
  ): Promise<Restaurant> {
    const nc = cleanup.add(await connect({ servers: natsUrl.split(',') }), (c) => c.close());
    const restaurant = new Restaurant(cleanup, natsUrl, await freePort(), nc, env);
    restaurant.start('order');
    restaurant.start('kitchen', 'kitchen-1');
    restaurant.start('kitchen', 'kitchen-2');
    restaurant.start('reception');
    restaurant.start('audit');
    // Generous: on a loaded machine a new cluster may take a while to elect its JetStream leaders.
    const said = (): string =>
      [...restaurant.running]
        .map(
          ([label, p]) =>
            `${label}: ${p.running ? 'running' : 'exited'}, ${p.lastError ?? 'no error'}`,
        )
        .join('; ');
    await waitFor(async () => (await fetch(`${restaurant.base}/health`)).ok, {
      timeout: 60_000,
      message: () => `reception answers /health (${said()})`,
    });
    await waitFor(
      async () =>
        (await restaurant.instances('kitchen')) === 2 &&
        (await restaurant.instances('order')) === 1,
      {
        timeout: 60_000,
        message: () => `two kitchens and an order service answer PING (${said()})`,
      },
    );
    return restaurant;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  start(name: string, label = name): RunningProcess {
    const service = TOPOLOGY.find((s) => s.name === name);
    if (!service) throw new Error(`no service ${name}`);
    const env: Record<string, string> = {
      NATS_URL: this.natsUrl,
      COOK_MS_PER_DISH: '120',
      BRIGADE_LOG_LEVEL: 'info',
      ...this.env,
    };
    if (name === 'kitchen') env['KITCHEN_ID'] = label;
    if (service.http) env['PORT'] = String(this.port);
    const proc = this.cleanup.add(startProcess(service, label, env, TEST_LOGS), (p) => p.kill());
    this.running.set(label, proc);
    return proc;
  }

  async instances(name: string): Promise<number> {
    let count = 0;
    for await (const _ of await this.nc.services.client().ping(name)) count++;
    return count;
  }

  async post(body: string, contentType = 'application/json'): Promise<HttpAnswer> {
    const res = await fetch(`${this.base}/orders`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  async order(id: string): Promise<Order> {
    return (await (await fetch(`${this.base}/orders/${id}`)).json()) as Order;
  }
}
