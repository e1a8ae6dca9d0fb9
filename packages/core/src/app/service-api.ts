import { randomBytes } from 'node:crypto';
import { jsonSchemaOf, SCHEMA_METADATA, type Schema } from '../common/schema';
import type { HandlerDefinition, ServiceDefinition } from '../discovery/handler-definition';
import { jsonCodec } from '../transport/json.codec';
import type { NatsTransport } from '../transport/nats-transport';
import type { TransportSubscription, WireMessage } from '../transport/wire-message';
import type { HandlerCounters, HandlerStats } from '../pipeline/handler-stats';
import type { ServiceApiResponse, ServiceIdentity } from './service-api-wire';

/** The NATS Service API (ADR-32) verbs and response types. */
const VERBS = ['PING', 'INFO', 'STATS'] as const;
type Verb = (typeof VERBS)[number];
const RESPONSE_TYPE = {
  PING: 'io.nats.micro.v1.ping_response',
  INFO: 'io.nats.micro.v1.info_response',
  STATS: 'io.nats.micro.v1.stats_response',
} as const satisfies Record<Verb, ServiceApiResponse['type']>;

/** One running service as the Service API shows it: its definition and its handlers' counters. */
export interface ServiceInstance {
  readonly definition: ServiceDefinition;
  readonly handlers: readonly {
    readonly definition: HandlerDefinition;
    readonly stats: HandlerCounters;
  }[];
}

/**
 * Answers `$SRV.PING|INFO|STATS`, `$SRV.<verb>.<name>` and `$SRV.<verb>.<name>.<id>` for every
 * service of an app, with plain (non-queue) subscriptions, so `nats micro ls` and any ADR-32 tool
 * see each instance. Event handlers appear as endpoints with `brigade.kind: event` in their
 * metadata (durable ones with their stream and consumer too); broadcast handlers have an empty
 * `queue_group`.
 */
export class ServiceApi {
  /** The instance id of each service, unique per process start. */
  readonly ids: ReadonlyMap<string, string>;
  private readonly started = new Date().toISOString();
  private subscriptions: TransportSubscription[] = [];

  constructor(
    private readonly transport: NatsTransport,
    private readonly instances: readonly ServiceInstance[],
  ) {
    this.ids = new Map(instances.map((i) => [i.definition.name, randomBytes(11).toString('hex')]));
  }

  bind(): void {
    for (const verb of VERBS) {
      this.subscriptions.push(
        this.transport.subscribe(`$SRV.${verb}`, undefined, (msg) => this.answerAll(verb, msg)),
      );
      for (const instance of this.instances) {
        const { name } = instance.definition;
        const answer = (msg: WireMessage): void => this.answer(verb, instance, msg);
        this.subscriptions.push(
          this.transport.subscribe(`$SRV.${verb}.${name}`, undefined, answer),
        );
        this.subscriptions.push(
          this.transport.subscribe(
            `$SRV.${verb}.${name}.${this.ids.get(name) as string}`,
            undefined,
            answer,
          ),
        );
      }
    }
  }

  unbind(): void {
    for (const sub of this.subscriptions) sub.unsubscribe();
    this.subscriptions = [];
  }

  /** The response an instance gives to a verb. */
  response(verb: Verb, instance: ServiceInstance): ServiceApiResponse {
    const { definition } = instance;
    const base: ServiceIdentity = {
      name: definition.name,
      id: this.ids.get(definition.name) as string,
      version: definition.version,
      metadata: { ...definition.metadata },
    };
    switch (verb) {
      case 'PING':
        return { type: RESPONSE_TYPE.PING, ...base };
      case 'INFO':
        return {
          type: RESPONSE_TYPE.INFO,
          ...base,
          description: definition.description,
          endpoints: instance.handlers.map(({ definition: h }) => ({
            name: h.name,
            subject: h.subject,
            queue_group: h.queue ?? '',
            metadata: { ...endpointMetadata(h) },
          })),
        };
      case 'STATS':
        return {
          type: RESPONSE_TYPE.STATS,
          ...base,
          started: this.started,
          endpoints: instance.handlers.map(({ definition: h, stats: counters }) => {
            const stats = counters.snapshot();
            return {
              name: h.name,
              subject: h.subject,
              queue_group: h.queue ?? '',
              num_requests: stats.numRequests,
              num_errors: stats.numErrors,
              last_error: stats.lastError,
              processing_time: stats.processingTimeNs,
              average_processing_time:
                stats.numRequests === 0
                  ? 0
                  : Math.trunc(stats.processingTimeNs / stats.numRequests),
              ...statsData(h, stats),
            };
          }),
        };
    }
  }

  private answerAll(verb: Verb, msg: WireMessage): void {
    for (const instance of this.instances) this.answer(verb, instance, msg);
  }

  private answer(verb: Verb, instance: ServiceInstance, msg: WireMessage): void {
    if (!msg.reply) return;
    this.transport.publish(msg.reply, jsonCodec.encode(this.response(verb, instance)));
  }
}

const metadataOf = new WeakMap<HandlerDefinition, Readonly<Record<string, string>>>();

/** A handler's INFO metadata, worked out once (its schemas converted to JSON Schema). */
function endpointMetadata(handler: HandlerDefinition): Readonly<Record<string, string>> {
  const known = metadataOf.get(handler);
  if (known) return known;
  const metadata: Record<string, string> = { ...handler.metadata };
  if (handler.kind === 'event') metadata['brigade.kind'] = 'event';
  if (handler.durable) {
    metadata['brigade.stream'] = handler.durable.stream;
    metadata['brigade.consumer'] = handler.durable.consumer;
  }
  const schemas: [string, Schema | undefined, 'input' | 'output'][] =
    handler.kind === 'endpoint'
      ? [
          [SCHEMA_METADATA.request, handler.input, 'input'],
          [SCHEMA_METADATA.response, handler.output, 'output'],
        ]
      : [[SCHEMA_METADATA.payload, handler.input, 'input']];
  for (const [key, schema, side] of schemas) {
    const json = schema && jsonSchemaOf(schema, side);
    if (json) metadata[key] = JSON.stringify(json);
  }
  const frozen = Object.freeze(metadata);
  metadataOf.set(handler, frozen);
  return frozen;
}

/**
 * A handler's `data` in `STATS`: what a core event handler dropped (backpressure, malformed
 * headers), and for any handler, once it happened, the handlers given up on past their deadline
 * and grace, and for a durable handler with a breaker, how often it opened and closed. Nothing
 * when there is nothing of these to say.
 */
function statsData(
  handler: HandlerDefinition,
  stats: HandlerStats,
): { data?: Record<string, number> } {
  const data: Record<string, number> = {};
  if (handler.kind === 'event' && !handler.durable) data['dropped'] = stats.dropped;
  if (stats.abandoned > 0) {
    data['abandoned'] = stats.abandoned;
    data['abandoned_running'] = stats.abandonedRunning;
  }
  if (handler.durable?.breaker) {
    data['breaker_opened'] = stats.breakerOpened;
    data['breaker_closed'] = stats.breakerClosed;
  }
  return Object.keys(data).length === 0 ? {} : { data };
}
