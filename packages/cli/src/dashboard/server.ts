import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DeadLetterNotFoundError, type DeadLetter } from '@brigade/core';
import type { DashboardCollector, Snapshot } from './collector';

/** The page's files, shipped beside the build (`page/`), read once. */
const PAGE_DIR = join(__dirname, '..', '..', 'page');
const ASSETS: Record<string, { type: string; file: string }> = {
  '/': { type: 'text/html; charset=utf-8', file: 'index.html' },
  '/dashboard.js': { type: 'text/javascript; charset=utf-8', file: 'dashboard.js' },
  '/dashboard.css': { type: 'text/css; charset=utf-8', file: 'dashboard.css' },
};
const LETTER_PATH = /^\/api\/dead-letters\/(\d{1,15})(\/replay)?$/;
const CONSUMER_PATH = /^\/api\/consumers\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)\/(pause|resume)$/;
/** How long the page's Pause button pauses a consumer, in ms. */
const PAUSE_MS = 5 * 60_000;
/** Names a loopback listener answers to; any other Host is a page of another site (DNS rebinding). */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);
const TOKEN_HEADER = 'x-dashboard-token';

export interface DashboardServerOptions {
  readonly host: string;
  readonly port: number;
  /** Replay and delete dead letters: off unless asked for. */
  readonly allowActions: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The dashboard's web server: the page, its live feed (server-sent events, one snapshot per poll
 * to every page) and the dead-letter actions. The page is plain HTML, CSS and a script: nothing
 * is fetched from elsewhere, so it works with no network.
 */
export class DashboardServer {
  private readonly server: Server;
  private readonly assets = new Map<string, { type: string; body: Buffer }>();
  /** Sent by the page with every action: another site's page cannot read it, so cannot act. */
  private readonly token = randomBytes(24).toString('hex');
  private readonly feeds = new Set<ServerResponse>();
  private readonly unsubscribe: () => void;
  private port = 0;

  constructor(
    private readonly collector: DashboardCollector,
    private readonly options: DashboardServerOptions,
  ) {
    for (const [path, { type, file }] of Object.entries(ASSETS)) {
      let text = readFileSync(join(PAGE_DIR, file), 'utf8');
      if (file === 'index.html')
        text = text
          .replace('{{token}}', this.token)
          .replace('{{actions}}', options.allowActions ? 'on' : 'off');
      this.assets.set(path, { type, body: Buffer.from(text) });
    }
    this.server = createServer((req, res) => void this.handle(req, res));
    this.unsubscribe = collector.onSnapshot((snapshot) => this.broadcast(snapshot));
  }

  /** Listens; resolves with the page's address. */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.port = (this.server.address() as AddressInfo).port;
        const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
        resolve(`http://${host}:${this.port}/`);
      });
    });
  }

  async close(): Promise<void> {
    this.unsubscribe();
    for (const feed of this.feeds) feed.end();
    this.feeds.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      this.checkHost(req);
      const path = new URL(req.url ?? '/', 'http://dashboard').pathname;
      const asset = this.assets.get(path);
      if (asset) {
        allow(req, 'GET');
        res.writeHead(200, {
          'content-type': asset.type,
          'content-length': asset.body.length,
          'cache-control': 'no-store',
          'content-security-policy':
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
          'x-content-type-options': 'nosniff',
        });
        res.end(asset.body);
        return;
      }
      if (path === '/events') return this.follow(req, res);
      if (path === '/api/snapshot') {
        allow(req, 'GET');
        return sendJson(res, 200, this.collector.latest);
      }
      const letter = LETTER_PATH.exec(path);
      if (letter)
        return await this.deadLetter(req, res, Number(letter[1]), letter[2] !== undefined);
      const consumer = CONSUMER_PATH.exec(path);
      if (consumer)
        return await this.pauseConsumer(
          req,
          res,
          consumer[1] as string,
          consumer[2] as string,
          consumer[3] === 'pause',
        );
      if (path === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      throw new HttpError(404, `no page ${path}`);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : statusOf(err);
      if (!res.headersSent) sendJson(res, status, { error: (err as Error).message });
      else res.end();
    }
  }

  /** Only a loopback name reaches a dashboard listening on loopback. */
  private checkHost(req: IncomingMessage): void {
    if (!LOOPBACK_NAMES.has(this.options.host) && this.options.host !== '::1') return;
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (!LOOPBACK_NAMES.has(host))
      throw new HttpError(421, `this dashboard answers to localhost only, not '${host}'`);
  }

  /** The live feed: the latest snapshot at once, then every new one. */
  private follow(req: IncomingMessage, res: ServerResponse): void {
    allow(req, 'GET');
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(`retry: 2000\n\n`);
    this.feeds.add(res);
    res.on('close', () => this.feeds.delete(res));
    this.send(res, `data: ${JSON.stringify(this.collector.latest)}\n\n`);
  }

  private broadcast(snapshot: Snapshot): void {
    if (this.feeds.size === 0) return;
    const frame = `data: ${JSON.stringify(snapshot)}\n\n`;
    for (const feed of this.feeds) this.send(feed, frame);
  }

  /** A page that does not keep up misses snapshots rather than piling them up here. */
  private send(feed: ServerResponse, frame: string): void {
    if (feed.writableNeedDrain) return;
    feed.write(frame);
  }

  /** An action of the page: only with --allow-actions, only from this dashboard's own page. */
  private checkAction(req: IncomingMessage, method: string): void {
    allow(req, method);
    if (!this.options.allowActions)
      throw new HttpError(
        403,
        'this dashboard is read-only: start it with --allow-actions to replay, delete, pause or resume',
      );
    if (req.headers[TOKEN_HEADER] !== this.token)
      throw new HttpError(403, 'the action did not come from this dashboard’s page');
  }

  /** Pauses a consumer on the server for five minutes, or resumes it (nats-server 2.11+). */
  private async pauseConsumer(
    req: IncomingMessage,
    res: ServerResponse,
    stream: string,
    consumer: string,
    pause: boolean,
  ): Promise<void> {
    this.checkAction(req, 'POST');
    const api = this.collector.jetStreamApi();
    if (!api) throw new HttpError(503, 'NATS is not connected');
    const state = await api.pause(
      stream,
      consumer,
      pause ? new Date(Date.now() + PAUSE_MS) : undefined,
    );
    this.collector.refresh();
    sendJson(res, 200, {
      result: state.paused
        ? `consumer ${consumer} of ${stream} paused until ${state.until ?? 'later'}`
        : `consumer ${consumer} of ${stream} resumed`,
    });
  }

  private async deadLetter(
    req: IncomingMessage,
    res: ServerResponse,
    sequence: number,
    replay: boolean,
  ): Promise<void> {
    const letters = this.collector.deadLetters();
    if (req.method === 'GET' && !replay) {
      if (!letters) throw new HttpError(503, 'NATS is not connected');
      return sendJson(res, 200, detailOf(await letters.get(sequence)));
    }
    this.checkAction(req, replay ? 'POST' : 'DELETE');
    if (!letters) throw new HttpError(503, 'NATS is not connected');
    if (replay) {
      const ack = await letters.replay(sequence);
      this.collector.refresh();
      return sendJson(res, 200, {
        result: `dead letter ${sequence} replayed: stored in ${ack.stream} as message ${ack.sequence}`,
      });
    }
    await letters.delete(sequence);
    this.collector.refresh();
    sendJson(res, 200, { result: `dead letter ${sequence} deleted` });
  }
}

/** A dead letter as the page opens it: the payload as text, and as JSON when it is JSON. */
function detailOf(letter: DeadLetter): Record<string, unknown> {
  const { data, ...rest } = letter;
  const text = new TextDecoder().decode(data);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { ...rest, size: data.length, payload: text, ...(json === undefined ? {} : { json }) };
}

function statusOf(err: unknown): number {
  if (err instanceof DeadLetterNotFoundError) return 404;
  const status = (err as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

function allow(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new HttpError(405, `use ${method} here`);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}
