import { SCHEMA_METADATA } from '@brigade/core';

/** An endpoint as a Service API INFO answer describes it (any ADR-32 service, Brigade or not). */
export interface DescribedEndpoint {
  readonly name: string;
  readonly subject: string;
  readonly queue_group?: string | null;
  readonly metadata?: Readonly<Record<string, string>> | null;
}

/** A service as its INFO answer describes it. */
export interface DescribedService {
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  readonly endpoints?: readonly DescribedEndpoint[];
}

export interface AsyncApiOptions {
  readonly title: string;
  /** The NATS servers, as `host:port`, the document names. */
  readonly servers: readonly string[];
}

type Json = Record<string, unknown>;

const JSON_SCHEMA = 'application/schema+json;version=draft-07';
const NATS_BINDING_VERSION = '0.1.0';

/** The error reply every ADR-32 endpoint may answer with, by its headers (and a JSON body). */
const SERVICE_ERROR: Json = {
  name: 'ServiceError',
  title: 'An error reply of the NATS Service API',
  summary: 'Nats-Service-Error and Nats-Service-Error-Code headers; the body repeats them.',
  contentType: 'application/json',
  headers: {
    type: 'object',
    required: ['Nats-Service-Error', 'Nats-Service-Error-Code'],
    properties: {
      'Nats-Service-Error': { type: 'string', description: 'what went wrong' },
      'Nats-Service-Error-Code': {
        type: 'string',
        description: 'an HTTP-like status: 400, 404, 408, 409, 422, 500, 503',
      },
    },
  },
  payload: {
    type: 'object',
    properties: {
      code: { type: 'integer' },
      message: { type: 'string' },
      details: { description: 'more about the error, such as the issues of a 422' },
    },
  },
};

/** A key AsyncAPI takes for a subject: its wildcards named (`orders.*` is `orders.any`). */
function keyOf(subject: string): string {
  return subject
    .split('.')
    .map((token) => (token === '*' ? 'any' : token === '>' ? 'all' : token))
    .join('.')
    .replace(/[^A-Za-z0-9._-]/g, '_');
}

function schemaOf(endpoint: DescribedEndpoint, key: string): Json | undefined {
  const text = endpoint.metadata?.[key];
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Json;
  } catch {
    return undefined; // not JSON Schema text: the message goes without a payload schema
  }
}

function message(name: string, title: string, schema: Json | undefined): Json {
  return {
    name,
    title,
    contentType: 'application/json',
    ...(schema ? { payload: { schemaFormat: JSON_SCHEMA, schema } } : {}),
  };
}

function queueBinding(endpoint: DescribedEndpoint): Json {
  return endpoint.queue_group
    ? { bindings: { nats: { queue: endpoint.queue_group, bindingVersion: NATS_BINDING_VERSION } } }
    : {};
}

const ref = (path: string): Json => ({ $ref: `#/${path}` });

/**
 * An AsyncAPI 3.0 document of the services on the bus, from what their Service API INFO answers
 * say: a channel per subject, the service's `receive` operation for each handler (with its queue
 * group as NATS binding), a `send` operation for whoever calls or publishes, request-reply with a
 * dynamic reply channel (the requester's inbox) where an endpoint replies, and the error reply.
 */
export function asyncApiDocument(
  services: readonly DescribedService[],
  options: AsyncApiOptions,
): Json {
  const channels: Record<string, Json> = {};
  const operations: Record<string, Json> = {};
  const seen = new Set<string>();
  for (const service of [...services].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const endpoint of service.endpoints ?? []) {
      const id = `${service.name}.${endpoint.name}`;
      if (seen.has(id)) continue; // another instance of the same service
      seen.add(id);
      const isEvent = endpoint.metadata?.['brigade.kind'] === 'event';
      const channel = keyOf(endpoint.subject);
      if (isEvent) {
        channels[channel] ??= {
          address: endpoint.subject,
          messages: {
            event: message(
              `${channel}.event`,
              `an event on ${endpoint.subject}`,
              schemaOf(endpoint, SCHEMA_METADATA.payload),
            ),
          },
        };
        operations[`${keyOf(id)}.receive`] = {
          action: 'receive',
          channel: ref(`channels/${channel}`),
          summary: `${service.name} handles the events on ${endpoint.subject}`,
          messages: [ref(`channels/${channel}/messages/event`)],
          ...queueBinding(endpoint),
        };
        operations[`${channel}.publish`] ??= {
          action: 'send',
          channel: ref(`channels/${channel}`),
          summary: `publish an event on ${endpoint.subject}`,
          messages: [ref(`channels/${channel}/messages/event`)],
        };
        continue;
      }
      const replies = `${channel}.reply`;
      channels[channel] ??= {
        address: endpoint.subject,
        messages: {
          request: message(
            `${channel}.request`,
            `a request to ${endpoint.subject}`,
            schemaOf(endpoint, SCHEMA_METADATA.request),
          ),
        },
      };
      channels[replies] ??= {
        address: null,
        description: "The requester's reply subject (its inbox), given with the request.",
        messages: {
          reply: message(
            `${channel}.reply`,
            `the reply of ${endpoint.subject}`,
            schemaOf(endpoint, SCHEMA_METADATA.response),
          ),
          error: ref('components/messages/ServiceError'),
        },
      };
      const reply = {
        channel: ref(`channels/${replies}`),
        messages: [
          ref(`channels/${replies}/messages/reply`),
          ref(`channels/${replies}/messages/error`),
        ],
      };
      operations[`${keyOf(id)}.reply`] = {
        action: 'receive',
        channel: ref(`channels/${channel}`),
        summary: `${service.name} answers the requests on ${endpoint.subject}`,
        messages: [ref(`channels/${channel}/messages/request`)],
        reply,
        ...queueBinding(endpoint),
      };
      operations[`${channel}.request`] ??= {
        action: 'send',
        channel: ref(`channels/${channel}`),
        summary: `send a request to ${endpoint.subject} and wait for the reply`,
        messages: [ref(`channels/${channel}/messages/request`)],
        reply,
      };
    }
  }
  const names = [...new Set(services.map((s) => `${s.name} ${s.version}`))].sort();
  return {
    asyncapi: '3.0.0',
    info: {
      title: options.title,
      version: '1.0.0',
      description: `The services on the bus, as their NATS Service API INFO answers describe them: ${names.join(', ') || 'none'}.`,
    },
    defaultContentType: 'application/json',
    servers: Object.fromEntries(
      options.servers.map((host, i) => [
        options.servers.length === 1 ? 'nats' : `nats-${i + 1}`,
        { host, protocol: 'nats' },
      ]),
    ),
    channels,
    operations,
    components: { messages: { ServiceError: SERVICE_ERROR } },
  };
}
