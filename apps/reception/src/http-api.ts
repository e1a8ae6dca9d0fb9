import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { decodeJson, ServiceError, toServiceError, type Bus, type Logger } from '@brigade/core';
import {
  MENU,
  NewOrder,
  OrderApi,
  orderEventOptions,
  OrderEvents,
  problemsOf,
  type PaidOrder,
} from '@restaurant/contracts';
import { LivePage } from './live-page';
import type { OrderBoard } from './order-board';

const MAX_BODY_BYTES = 64 * 1024;
const ORDER_PATH = /^\/orders\/([A-Za-z0-9-]{1,64})$/;
/** Reception's own spans, one per HTTP request (no-ops without an OpenTelemetry SDK). */
const tracer = trace.getTracer('@restaurant/reception');
/** How long reception waits for the order service; failures are answered by `fromService`. */
const ASKING_MS = 5_000;
/** A caller's own request id, taken as the correlation id of what the request sends. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** An error answered with its status and message. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/**
 * Reception's HTTP API. Placing an order asks the order service to create it, takes payment and
 * hands the paid order to the kitchen as an event: it answers 202 at once, never waiting for the
 * kitchen. The order's progress is read with GET /orders/:id, or watched on the page at GET /.
 */
export class ReceptionHttpApi {
  private readonly server: Server;
  private readonly page: LivePage;

  constructor(
    private readonly bus: Bus,
    private readonly logger: Logger,
    board: OrderBoard,
  ) {
    this.page = new LivePage(board);
    this.server = createServer((req, res) => {
      if (!this.page.handle(req, res)) void this.handle(req, res);
    });
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** Stops taking connections and waits for the open requests. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.page.close();
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  /**
   * Answers one request inside its SERVER span, a child of the caller's `traceparent` if it sent
   * one: what the bus sends while answering (the order request, the `paid` event) is its child.
   */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const route = routeOf(req.url);
    const span = tracer.startSpan(
      `${req.method ?? 'HTTP'} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method ?? '', 'http.route': route },
      },
      parent,
    );
    const status = await context.with(trace.setSpan(parent, span), () => this.answer(req, res));
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }

  /** Routes the request and sends the answer; returns its status. */
  private async answer(req: IncomingMessage, res: ServerResponse): Promise<number> {
    try {
      const { status, body } = await this.route(req, { 'correlation-id': correlationOf(req) });
      send(res, status, body);
      return status;
    } catch (err) {
      const failure = err instanceof HttpError ? err : fromService(err);
      if (failure.status === 500) {
        this.logger.error({ err, method: req.method, url: clip(req.url ?? '') }, 'request failed');
      }
      send(res, failure.status, {
        error: failure.message,
        ...(failure.details === undefined ? {} : { details: failure.details }),
      });
      return failure.status;
    }
  }

  /** `headers`: what every message sent for this request carries (its correlation id). */
  private async route(
    req: IncomingMessage,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: unknown }> {
    const path = pathOf(req.url);
    if (path === '/orders') {
      allow(req, 'POST');
      return { status: 202, body: await this.placeOrder(await readJson(req), headers) };
    }
    const match = ORDER_PATH.exec(path);
    if (match) {
      allow(req, 'GET');
      const id = match[1] as string;
      const order = await this.bus.request(OrderApi.get, { id }, { timeout: ASKING_MS, headers });
      return { status: 200, body: order };
    }
    if (path === '/menu') {
      allow(req, 'GET');
      return { status: 200, body: MENU };
    }
    if (path === '/health') return { status: 200, body: { ok: true } };
    // Browsers ask for it with every page: "no icon", not an error.
    if (path === '/favicon.ico') return { status: 204, body: undefined };
    throw new HttpError(404, `no route ${req.method ?? ''} ${path}`);
  }

  private async placeOrder(
    input: unknown,
    headers: Record<string, string>,
  ): Promise<{ id: string; status: string; total: number }> {
    // The contract's schema, as the order service checks it: a customer's mistakes are 400s here.
    const checked = NewOrder.safeParse(input);
    if (!checked.success)
      throw new HttpError(400, 'the order is invalid', { problems: problemsOf(checked.error) });
    const order = await this.bus.request(OrderApi.create, checked.data, {
      timeout: ASKING_MS,
      headers,
    });
    // Payment is simulated: the total is charged at once. Then the kitchen gets the order as an
    // event; reception goes back to the next customer without waiting.
    const paid: PaidOrder = {
      id: order.id,
      items: order.items,
      total: order.total,
      at: new Date().toISOString(),
    };
    const options = orderEventOptions(order.id, `paid-${order.id}`);
    await this.bus.publish(OrderEvents.paid, paid, {
      ...options,
      headers: { ...options.headers, ...headers },
    });
    return { id: order.id, status: 'paid', total: order.total };
  }
}

/**
 * The HTTP answer to a failed call to the bus: a service's error reply keeps its status (422
 * becomes 400); a service or JetStream that is down or too slow becomes 503, which the customer
 * may retry; anything else is a 500 without details.
 */
function fromService(err: unknown): HttpError {
  const failure = toServiceError(err);
  const status = failure.status === 422 ? 400 : failure.status;
  if (status === 503 && !(err instanceof ServiceError))
    return new HttpError(503, 'the restaurant is unavailable right now; try again shortly');
  return new HttpError(status, failure.message, failure.details);
}

/** The path of a request target; a target that is no URL path is a 400. */
function pathOf(target: string | undefined): string {
  if (target === undefined || !target.startsWith('/'))
    throw new HttpError(400, 'the request target must be a path, like /orders');
  try {
    return new URL(target, 'http://reception').pathname;
  } catch {
    throw new HttpError(400, 'the request target is not a valid path');
  }
}

/**
 * The correlation id of one HTTP request: the caller's `x-request-id` when it is a sane one,
 * else a new id. The order request, the `paid` event and everything downstream carry it, so one
 * customer's order reads as one conversation in logs and traces.
 */
function correlationOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The route a request target matches, for its span's name: a few values, never an order id. */
function routeOf(target: string | undefined): string {
  const path = (target ?? '').split('?')[0] ?? '';
  if (ORDER_PATH.test(path)) return '/orders/:id';
  return ['/orders', '/menu', '/health'].includes(path) ? path : 'unmatched';
}

/** A value from the request, cut for a log line. */
function clip(value: string): string {
  return value.length <= 128 ? value : `${value.slice(0, 128)}… (${value.length} characters)`;
}

function allow(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new HttpError(405, `use ${method} here`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json'))
    throw new HttpError(400, 'send JSON with Content-Type: application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return decodeJson(Buffer.concat(chunks));
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (status === 204) {
    res.writeHead(204).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
