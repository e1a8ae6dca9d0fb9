import type { Bus } from '@brigade/core';
import { discover, kindOf, type Endpoint, type ServiceResponse } from '../discovery';

/** A service as the dashboard shows it: its instances and its handlers across them. */
export interface ServiceView {
  readonly name: string;
  readonly versions: readonly string[];
  readonly description: string;
  readonly instances: readonly InstanceView[];
  readonly handlers: readonly HandlerView[];
}

export interface InstanceView {
  readonly id: string;
  readonly version: string;
  /** RFC 3339, when the instance started. */
  readonly started?: string;
}

/** One endpoint or event handler, summed over the service's instances. */
export interface HandlerView {
  readonly name: string;
  readonly subject: string;
  /** `""` for none (a broadcast endpoint, a durable handler). */
  readonly queueGroup: string;
  /** `endpoint`, `event` or `durable event (STREAM/consumer)`. */
  readonly kind: string;
  readonly requests: number;
  readonly errors: number;
  readonly lastError: string;
  /** Over every message so far, in ms. */
  readonly averageMs: number;
  /** One point per poll, oldest first: messages per second, errors per second, average ms. */
  readonly history: { readonly rate: number[]; readonly errors: number[]; readonly ms: number[] };
}

interface Counters {
  readonly requests: number;
  readonly errors: number;
  readonly processingNs: number;
}

interface Instance {
  readonly name: string;
  readonly id: string;
  stats: ServiceResponse;
  info?: ServiceResponse;
  /** Its counters per endpoint at the previous poll. */
  counters: Map<string, Counters>;
  missed: number;
}

interface Series {
  readonly rate: number[];
  readonly errors: number[];
  readonly ms: number[];
  lastError: string;
}

/** An instance that did not answer this many polls in a row is taken as gone (one may be lost). */
const MISSES_TO_FORGET = 2;

/**
 * The services on the bus, kept between polls: each poll asks every instance for its STATS (and
 * a new instance once for its INFO, for its description and handler kinds), and turns the
 * counters' growth since the last poll into rates. Memory stays bounded: `points` per handler,
 * and nothing of an instance once it is gone.
 */
export class ServicesView {
  private readonly instances = new Map<string, Instance>();
  private readonly series = new Map<string, Series>();
  private polledAt: number | undefined;

  constructor(
    private readonly points: number,
    private readonly waitMs: number,
    private readonly stallMs: number,
  ) {}

  async poll(bus: Bus): Promise<ServiceView[]> {
    const answers = await discover(bus, 'STATS', undefined, this.waitMs, this.stallMs);
    const now = Date.now();
    const seconds = this.polledAt === undefined ? 0 : (now - this.polledAt) / 1000;
    const seen = new Set<string>();
    const growth = new Map<string, { requests: number; errors: number; ns: number }>();
    for (const stats of answers) {
      const key = `${stats.name}\u0000${stats.id}`;
      seen.add(key);
      let instance = this.instances.get(key);
      const isNew = instance === undefined;
      if (!instance) {
        instance = { name: stats.name, id: stats.id, stats, counters: new Map(), missed: 0 };
        this.instances.set(key, instance);
      }
      instance.stats = stats;
      instance.missed = 0;
      // An instance that started since the last poll counts all it did; one first seen when the
      // dashboard started counts from now on.
      const countAll =
        isNew && this.polledAt !== undefined && Date.parse(stats.started ?? '') > this.polledAt;
      for (const endpoint of stats.endpoints ?? []) {
        const current = countersOf(endpoint);
        const before = instance.counters.get(endpoint.name);
        instance.counters.set(endpoint.name, current);
        const handler = `${stats.name}\u0000${endpoint.name}`;
        const sum = growth.get(handler) ?? { requests: 0, errors: 0, ns: 0 };
        const base = before ?? (countAll ? { requests: 0, errors: 0, processingNs: 0 } : current);
        // Counters that went down belong to a restarted instance: all of them are new.
        const restarted = current.requests < base.requests;
        sum.requests += restarted ? current.requests : current.requests - base.requests;
        const errors = restarted ? current.errors : current.errors - base.errors;
        sum.errors += errors;
        sum.ns += restarted ? current.processingNs : current.processingNs - base.processingNs;
        growth.set(handler, sum);
        if (errors > 0 && endpoint.last_error)
          this.seriesOf(handler).lastError = endpoint.last_error;
      }
    }
    await Promise.all(
      [...this.instances.values()]
        .filter((i) => seen.has(`${i.name}\u0000${i.id}`) && i.info === undefined)
        .map(async (i) => {
          i.info = await bus
            .request<ServiceResponse>(`$SRV.INFO.${i.name}.${i.id}`, undefined, {
              timeout: this.waitMs,
            })
            .catch(() => undefined);
        }),
    );
    for (const [key, instance] of this.instances) {
      if (seen.has(key)) continue;
      if (++instance.missed >= MISSES_TO_FORGET) this.instances.delete(key);
    }
    for (const [handler, sum] of growth) {
      const series = this.seriesOf(handler);
      push(series.rate, seconds > 0 ? round(sum.requests / seconds) : 0, this.points);
      push(series.errors, seconds > 0 ? round(sum.errors / seconds) : 0, this.points);
      push(series.ms, sum.requests > 0 ? round(sum.ns / sum.requests / 1e6) : 0, this.points);
    }
    // A handler no instance has any more is forgotten with its history.
    const live = new Set(
      [...this.instances.values()].flatMap((i) =>
        (i.stats.endpoints ?? []).map((e) => `${i.name}\u0000${e.name}`),
      ),
    );
    for (const handler of this.series.keys()) if (!live.has(handler)) this.series.delete(handler);
    this.polledAt = now;
    return this.view();
  }

  private seriesOf(handler: string): Series {
    let series = this.series.get(handler);
    if (!series) {
      series = { rate: [], errors: [], ms: [], lastError: '' };
      this.series.set(handler, series);
    }
    return series;
  }

  private view(): ServiceView[] {
    const byName = new Map<string, Instance[]>();
    for (const instance of this.instances.values()) {
      byName.set(instance.name, [...(byName.get(instance.name) ?? []), instance]);
    }
    return [...byName.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, instances]) => {
        instances.sort((a, b) => a.id.localeCompare(b.id));
        return {
          name,
          versions: [...new Set(instances.map((i) => i.stats.version))].sort(),
          description: instances.find((i) => i.info?.description)?.info?.description ?? '',
          instances: instances.map((i) => ({
            id: i.id,
            version: i.stats.version,
            ...(i.stats.started ? { started: i.stats.started } : {}),
          })),
          handlers: this.handlersOf(name, instances),
        };
      });
  }

  private handlersOf(service: string, instances: readonly Instance[]): HandlerView[] {
    const names = [
      ...new Set(instances.flatMap((i) => (i.stats.endpoints ?? []).map((e) => e.name))),
    ];
    return names.sort().map((name) => {
      const stats = instances.flatMap((i) =>
        (i.stats.endpoints ?? []).filter((e) => e.name === name),
      );
      const described =
        instances.flatMap((i) => (i.info?.endpoints ?? []).filter((e) => e.name === name))[0] ??
        stats[0];
      const totals = stats.map(countersOf).reduce(
        (sum, c) => ({
          requests: sum.requests + c.requests,
          errors: sum.errors + c.errors,
          processingNs: sum.processingNs + c.processingNs,
        }),
        { requests: 0, errors: 0, processingNs: 0 },
      );
      const series = this.seriesOf(`${service}\u0000${name}`);
      return {
        name,
        subject: described?.subject ?? '',
        queueGroup: described?.queue_group ?? '',
        kind: described ? kindOf(described) : 'endpoint',
        requests: totals.requests,
        errors: totals.errors,
        lastError: series.lastError || (stats.find((e) => e.last_error)?.last_error ?? ''),
        averageMs: totals.requests > 0 ? round(totals.processingNs / totals.requests / 1e6) : 0,
        history: { rate: [...series.rate], errors: [...series.errors], ms: [...series.ms] },
      };
    });
  }
}

function countersOf(endpoint: Endpoint): Counters {
  return {
    requests: endpoint.num_requests ?? 0,
    errors: endpoint.num_errors ?? 0,
    processingNs: endpoint.processing_time ?? 0,
  };
}

function push(points: number[], value: number, max: number): void {
  points.push(value);
  if (points.length > max) points.splice(0, points.length - max);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
