import type { InputOf, OutputOf, Schema } from './schema';

/**
 * A request-response endpoint as a contract declares it: its subject and the schemas of its
 * request and reply. The service binds a handler to it (`@Endpoint(entry)`), callers send to it
 * (`bus.request(entry, payload)`), both typed from the schemas.
 */
export interface EndpointContract<
  Request extends Schema | undefined = Schema | undefined,
  Response extends Schema | undefined = Schema | undefined,
> {
  readonly kind: 'endpoint';
  readonly subject: string;
  readonly request: Request;
  readonly response: Response;
  readonly description?: string;
}

/** An event as a contract declares it: its subject and the schema of its payload. */
export interface EventContract<Payload extends Schema | undefined = Schema | undefined> {
  readonly kind: 'event';
  readonly subject: string;
  readonly payload: Payload;
  readonly description?: string;
}

export type ContractEntry = EndpointContract | EventContract;

/** What a caller sends to an endpoint. */
export type RequestOf<E extends EndpointContract> = InputOf<E['request']>;
/** What the endpoint's handler receives (the request after its schema's defaults and transforms). */
export type HandledRequestOf<E extends EndpointContract> = OutputOf<E['request']>;
/** What the endpoint's handler returns. */
export type ReplyOf<E extends EndpointContract> = InputOf<E['response']>;
/** What a caller receives from the endpoint. */
export type ReceivedReplyOf<E extends EndpointContract> = OutputOf<E['response']>;
/** What a publisher sends as the event. */
export type EventOf<E extends EventContract> = InputOf<E['payload']>;
/** What the event's handler receives. */
export type HandledEventOf<E extends EventContract> = OutputOf<E['payload']>;

/** Declares an endpoint of a contract: `endpoint('kitchen.status', { request, response })`. */
export function endpoint<
  Request extends Schema | undefined = undefined,
  Response extends Schema | undefined = undefined,
>(
  subject: string,
  schemas: { request?: Request; response?: Response; description?: string } = {},
): EndpointContract<Request, Response> {
  return Object.freeze({
    kind: 'endpoint',
    subject,
    request: schemas.request as Request,
    response: schemas.response as Response,
    description: schemas.description,
  });
}

/** Declares an event of a contract: `event('orders.placed', PlacedOrder)`. */
export function event<Payload extends Schema | undefined = undefined>(
  subject: string,
  payload?: Payload,
  options: { description?: string } = {},
): EventContract<Payload> {
  return Object.freeze({
    kind: 'event',
    subject,
    payload: payload as Payload,
    description: options.description,
  });
}

/** True for what `endpoint()` and `event()` make. */
export function isContractEntry(value: unknown): value is ContractEntry {
  const entry = value as Partial<ContractEntry> | null;
  return (
    typeof entry === 'object' &&
    entry !== null &&
    (entry.kind === 'endpoint' || entry.kind === 'event') &&
    typeof entry.subject === 'string'
  );
}
