import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { OrderBoard } from './order-board';

/** The page: one HTML file with its style and script, beside the build (`page/`). */
const PAGE = readFileSync(join(__dirname, '..', 'page', 'index.html'));

/**
 * Reception's live page on the API's port: `GET /` is a menu to order from and the latest orders
 * moving through their steps; `GET /events` feeds it (server-sent events: every order as it
 * stands, then each change).
 */
export class LivePage {
  private readonly feeds = new Set<ServerResponse>();

  constructor(private readonly board: OrderBoard) {
    board.onChange((order) => {
      const frame = `data: ${JSON.stringify(order)}\n\n`;
      // A page that does not keep up misses changes rather than piling them up here.
      for (const feed of this.feeds) if (!feed.writableNeedDrain) feed.write(frame);
    });
  }

  /** Answers `GET /` and `GET /events`; false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/' && path !== '/events') return false;
    if (req.method !== 'GET') {
      res.writeHead(405, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'use GET here' }));
      return true;
    }
    if (path === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': PAGE.length,
        'cache-control': 'no-store',
      });
      res.end(PAGE);
      return true;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    for (const order of this.board.recent()) res.write(`data: ${JSON.stringify(order)}\n\n`);
    this.feeds.add(res);
    res.on('close', () => this.feeds.delete(res));
    return true;
  }

  /** Ends every feed, so that the server can close. */
  close(): void {
    for (const feed of this.feeds) feed.end();
    this.feeds.clear();
  }
}
