import { createServer } from 'node:net';
import { connect, type NatsConnection } from 'nats';
import { NatsServer } from './nats-server';
import { waitFor } from './wait-for';

export interface NatsClusterOptions {
  /** Nodes in the cluster. Default: 3 (the smallest that survives losing one). */
  size?: number;
  /**
   * Nodes running when `start` returns, the first ones; the others are prepared but never started
   * until their `restart()`, as when a cluster's machines come up one by one. With fewer than all,
   * `start` does not wait for a JetStream leader (servers since 2.11 elect none before every
   * configured route has answered). Default: all.
   */
  running?: number;
  /** How long to wait for the cluster to elect its JetStream leader, in ms. Default: 30,000. */
  readyTimeoutMs?: number;
}

/**
 * A JetStream cluster of real nats-servers on loopback ports (clients and routes), each with its
 * own temporary store, owned by the test that started it. Nodes can be killed and brought back
 * on the same ports and store, as a failing machine would.
 */
export class NatsCluster {
  private constructor(readonly nodes: readonly NatsServer[]) {}

  static async start(options: NatsClusterOptions = {}): Promise<NatsCluster> {
    const size = options.size ?? 3;
    const clientPorts = await freePorts(size);
    const routePorts = await freePorts(size);
    const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
    const running = options.running ?? size;
    const nodes = await Promise.all(
      clientPorts.map(async (port, i) => {
        const node = NatsServer.prepare({
          jetstream: true,
          port,
          args: [
            '--server_name',
            `n${i + 1}`,
            '--cluster_name',
            'brigade-test',
            '--cluster',
            `nats://127.0.0.1:${routePorts[i] as number}`,
            '--routes',
            routes,
          ],
        });
        if (i < running) await node.restart();
        return node;
      }),
    );
    const cluster = new NatsCluster(nodes);
    try {
      if (running === size) await cluster.waitForJetStream(options.readyTimeoutMs ?? 30_000);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Every node's client URL, comma-separated, as `NATS_URL` takes them. */
  get url(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  /** The node with this server name (`n1`, `n2`, ...). */
  node(name: string): NatsServer {
    const node = this.nodes[Number(name.replace(/^n/, '')) - 1];
    if (!node) throw new Error(`no node '${name}' in a cluster of ${this.nodes.length}`);
    return node;
  }

  /** The node leading a stream's replicas now. */
  async streamLeader(stream: string): Promise<NatsServer> {
    const nc = await this.connect();
    try {
      const info = await (await nc.jetstreamManager()).streams.info(stream);
      const leader = info.cluster?.leader;
      if (!leader) throw new Error(`stream '${stream}' has no leader now`);
      return this.node(leader);
    } finally {
      await nc.close();
    }
  }

  /** Resolves once the cluster has a JetStream meta leader and answers account requests. */
  async waitForJetStream(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        const nc = await this.connect();
        try {
          await (await nc.jetstreamManager()).getAccountInfo();
          return true;
        } finally {
          await nc.close();
        }
      },
      { timeout: timeoutMs, interval: 200, message: 'the cluster to elect a JetStream leader' },
    );
  }

  /** Stops every node and removes their stores. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  private connect(): Promise<NatsConnection> {
    const live = this.nodes.filter((n) => n.isRunning).map((n) => n.url);
    return connect({ servers: live, timeout: 2_000, maxReconnectAttempts: 0 });
  }
}

/** `count` distinct loopback ports nothing listens on right now. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}
