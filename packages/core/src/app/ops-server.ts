import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidOptionError } from '../common/errors';
import type { Logger } from '../common/logger';
import type { ConnectionState } from '../transport/connection-status';
import { METRICS_CONTENT_TYPE } from '../observability/metrics';

/** The ops HTTP port of an app: probes for an orchestrator, metrics for Prometheus. */
export interface OpsOptions {
  /** The port; 0 takes a free one (`app.opsPort` tells which). */
  port: number;
  /** The address to listen on. Default: `0.0.0.0`, so a container's probes reach it. */
  host?: string;
}

/** What the probes answer: ready, or not ready and why. */
export type Readiness =
  { readonly ready: true } | { readonly ready: false; readonly reason: string };

/**
 * Serves `GET /livez` (200 while the process runs its event loop), `GET /readyz` (200 when the
 * app takes messages, 503 with the reason while it starts, reconnects or drains) and, with
 * metrics on, `GET /metrics` (Prometheus's text format).
 */
export class OpsServer {
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async listen(
    options: OpsOptions,
    readiness: () => Readiness,
    logger: Logger,
    /** What `/metrics` serves (Prometheus's text format); without it, `/metrics` is 404. */
    metrics?: { text(): Promise<string> },
  ): Promise<OpsServer> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      const send = (status: number, type: string, text: string): void => {
        res.writeHead(status, {
          'content-type': type,
          'content-length': Buffer.byteLength(text),
          'cache-control': 'no-store',
        });
        res.end(text);
      };
      const answer = (status: number, body: object): void =>
        send(status, 'application/json', JSON.stringify(body));
      const known = path === '/livez' || path === '/readyz' || (path === '/metrics' && metrics);
      if (!known) return answer(404, { error: `no ${path}` });
      if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, { error: 'use GET' });
      if (path === '/livez') return answer(200, { status: 'live' });
      if (path === '/metrics' && metrics) {
        metrics.text().then(
          (text) => send(200, METRICS_CONTENT_TYPE, text),
          (err: unknown) => {
            logger.error({ err }, 'could not collect the metrics');
            answer(500, { error: 'could not collect the metrics' });
          },
        );
        return;
      }
      const state = readiness();
      return state.ready
        ? answer(200, { status: 'ready' })
        : answer(503, { status: 'not ready', reason: state.reason });
    });
    const host = options.host ?? '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      server.once('error', (cause: NodeJS.ErrnoException) =>
        reject(
          new InvalidOptionError(
            `ops: cannot listen on ${host}:${options.port}: ${cause.code ?? cause.message}`,
            {
              cause,
            },
          ),
        ),
      );
      server.listen(options.port, host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    logger.info(
      { port },
      `probes on http://${host}:${port}/livez and /readyz${metrics ? ', metrics on /metrics' : ''}`,
    );
    return new OpsServer(server, port);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** Where an app is in its life, as the readiness probe tells it. */
export class AppHealth {
  private phase: 'starting' | 'ready' | 'stopping' = 'starting';
  private connection: { readonly state: ConnectionState } | undefined;

  /** Every subscription is live and JetStream provisioned, on this connection. */
  started(connection: { readonly state: ConnectionState }): void {
    this.connection = connection;
    this.phase = 'ready';
  }

  stopping(): void {
    this.phase = 'stopping';
  }

  readiness(): Readiness {
    if (this.phase === 'starting') return { ready: false, reason: 'starting' };
    if (this.phase === 'stopping')
      return { ready: false, reason: 'stopping: draining in-flight messages' };
    switch (this.connection?.state) {
      case 'reconnecting':
        return { ready: false, reason: 'the connection to NATS was lost; reconnecting' };
      case 'closed':
        return { ready: false, reason: 'the connection to NATS is closed' };
      default:
        return { ready: true };
    }
  }
}

/** Why `value` is no ops setting, or `undefined` when it is one. */
export function opsProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const port = (value as Partial<OpsOptions> | null)?.port;
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65_535)
    return `ops.port is a port number from 0 to 65535, got ${String(port)}`;
  return undefined;
}
