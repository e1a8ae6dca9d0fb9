import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type StreamConfig,
  type StreamInfo,
} from 'nats';
import type { DurableDefinition } from '../discovery/handler-definition';
import { subjectCovers, type StreamDefinition } from '../discovery/stream-declaration';
import { JetStreamError } from '../common/errors';
import { scheduleSubject } from './schedules';
import type { Logger } from '../common/logger';
import { isNotFound, untilLeader, type JetStreamContext } from './jetstream-context';
import { Features } from './server-features';

/** A durable handler's consumer, and who it belongs to (for error messages). */
export interface ConsumerRequest {
  readonly owner: string;
  readonly subject: string;
  readonly durable: DurableDefinition;
}

/**
 * Makes the server match the declarations, idempotently: creates what is missing, updates what
 * changed, and refuses with a clear error what JetStream cannot change in place.
 */
export class StreamProvisioner {
  constructor(
    private readonly jetstream: JetStreamContext,
    private readonly logger: Logger,
  ) {}

  async ensureStream(definition: StreamDefinition): Promise<void> {
    const { capabilities } = this.jetstream;
    if (definition.allowMsgTtl)
      capabilities.require(Features.messageTtl, `per-message TTL on stream '${definition.name}'`);
    if (definition.subjectDeleteMarkerTtlMs > 0)
      capabilities.require(
        Features.subjectDeleteMarkers,
        `subject delete markers on stream '${definition.name}'`,
      );
    const existing = await this.streamInfo(definition.name);
    const schedules =
      this.takesSchedules(definition) ||
      (existing?.config as StreamSettings | undefined)?.allow_msg_schedules === true;
    const desired = toStreamConfig(definition, schedules);
    if (!existing) {
      try {
        await this.jetstream.jsm.streams.add(desired);
        // Replicated, it takes publishes once its replicas have elected a leader.
        if (definition.replicas > 1) await untilLeader(this.jetstream.jsm, definition.name);
        this.logger.info(
          { stream: definition.name, subjects: definition.subjects },
          `stream '${definition.name}' created`,
        );
        return;
      } catch (cause) {
        // Another instance may have created it in the meantime: compare with what is there.
        const raced = await this.streamInfo(definition.name);
        if (!raced)
          throw new JetStreamError(
            `cannot create stream '${definition.name}': ${(cause as Error).message}`,
            { cause },
          );
        return this.reconcile(definition, desired, raced);
      }
    }
    return this.reconcile(definition, desired, existing);
  }

  /** Whether the stream is to take schedules here; `if-supported` on an older server says why not. */
  private takesSchedules(definition: StreamDefinition): boolean {
    if (definition.schedules === 'off') return false;
    const { capabilities } = this.jetstream;
    const what = `schedules on stream '${definition.name}'`;
    if (
      definition.schedules === 'if-supported' &&
      !capabilities.supports(Features.messageSchedules)
    ) {
      this.logger.warn(
        { stream: definition.name, feature: Features.messageSchedules.name },
        `${capabilities.lack(Features.messageSchedules, what)}: the stream takes none, and what needs them is off`,
      );
      return false;
    }
    capabilities.require(Features.messageSchedules, what);
    return true;
  }

  async ensureConsumer(request: ConsumerRequest): Promise<void> {
    const { durable, owner, subject } = request;
    const info = await this.streamInfo(durable.stream);
    if (!info) {
      throw new JetStreamError(
        `${owner} reads stream '${durable.stream}', which does not exist: declare it in Brigade.start({ streams })`,
      );
    }
    if (!info.config.subjects?.some((pattern) => subjectCovers(pattern, subject))) {
      throw new JetStreamError(
        `${owner} subscribes to '${subject}', which stream '${durable.stream}' does not store ` +
          `(its subjects: ${(info.config.subjects ?? []).join(', ')})`,
      );
    }
    const desired: Partial<ConsumerConfig> = {
      durable_name: durable.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
      max_deliver: durable.maxDeliver,
      ack_wait: nanos(durable.ackWaitMs),
      max_ack_pending: durable.maxAckPending,
    };
    const where = `consumer '${durable.consumer}' of stream '${durable.stream}' (${owner})`;
    let existing;
    try {
      existing = await this.jetstream.jsm.consumers.info(durable.stream, durable.consumer);
    } catch (err) {
      if (!isNotFound(err))
        throw new JetStreamError(`cannot read ${where}: ${(err as Error).message}`, { cause: err });
    }
    try {
      if (!existing) {
        await this.jetstream.jsm.consumers.add(durable.stream, desired);
        this.logger.info(
          { stream: durable.stream, consumer: durable.consumer },
          `${where} created`,
        );
        return;
      }
      if (existing.config.deliver_subject) {
        throw new JetStreamError(
          `${where} exists as a push consumer; Brigade needs a pull consumer: delete it or pick another name`,
        );
      }
      const current = existing.config;
      const changed =
        current.filter_subject !== desired.filter_subject ||
        current.max_deliver !== desired.max_deliver ||
        current.ack_wait !== desired.ack_wait ||
        current.max_ack_pending !== desired.max_ack_pending ||
        current.ack_policy !== AckPolicy.Explicit;
      if (changed) {
        await this.jetstream.jsm.consumers.update(durable.stream, durable.consumer, desired);
        this.logger.info(
          { stream: durable.stream, consumer: durable.consumer },
          `${where} updated`,
        );
      }
    } catch (cause) {
      if (cause instanceof JetStreamError) throw cause;
      throw new JetStreamError(`cannot provision ${where}: ${(cause as Error).message}`, { cause });
    }
  }

  private async reconcile(
    definition: StreamDefinition,
    declared: StreamSettings,
    info: StreamInfo,
  ): Promise<void> {
    let desired = declared;
    const current = info.config as StreamSettings & StreamConfig;
    if (current.storage !== desired.storage) {
      throw new JetStreamError(
        `stream '${definition.name}' exists with ${current.storage} storage and is declared with ${String(desired.storage)}: ` +
          'JetStream cannot change a stream’s storage in place; delete the stream or declare its current storage',
      );
    }
    if (current.retention !== desired.retention) {
      throw new JetStreamError(
        `stream '${definition.name}' exists with ${current.retention} retention and is declared with ${String(desired.retention)}: ` +
          'JetStream cannot change retention in place; delete the stream or leave it undeclared',
      );
    }
    if (current.num_replicas > definition.replicas) {
      // Never take replicas away behind an operator's back: keep theirs, and say so.
      this.logger.warn(
        { stream: definition.name, replicas: current.num_replicas, declared: definition.replicas },
        `stream '${definition.name}' keeps its ${current.num_replicas} replicas: it is declared with ${definition.replicas}, and Brigade never lowers them (change them on the server if you mean to)`,
      );
      desired = { ...desired, num_replicas: current.num_replicas };
    }
    const same =
      sameSet(current.subjects ?? [], desired.subjects ?? []) &&
      current.max_age === desired.max_age &&
      current.max_msgs === desired.max_msgs &&
      current.max_bytes === desired.max_bytes &&
      current.duplicate_window === desired.duplicate_window &&
      current.num_replicas === desired.num_replicas &&
      (current.description ?? '') === (desired.description ?? '') &&
      // Declared or not: a stream that allows TTLs cannot stop, and markers left undeclared stay.
      (desired.allow_msg_ttl === undefined || current.allow_msg_ttl === true) &&
      (desired.subject_delete_marker_ttl === undefined ||
        current.subject_delete_marker_ttl === desired.subject_delete_marker_ttl) &&
      (desired.allow_msg_schedules === undefined || current.allow_msg_schedules === true);
    if (same) return;
    try {
      await this.jetstream.jsm.streams.update(definition.name, { ...current, ...desired });
      this.logger.info({ stream: definition.name }, `stream '${definition.name}' updated`);
    } catch (cause) {
      throw new JetStreamError(
        `cannot update stream '${definition.name}' to its declaration: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
  }

  private async streamInfo(name: string): Promise<StreamInfo | undefined> {
    try {
      return await this.jetstream.jsm.streams.info(name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw new JetStreamError(`cannot read stream '${name}': ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}

/** The stream configuration, with the fields of newer servers that `nats` 2.29 does not type. */
type StreamSettings = Partial<StreamConfig> & {
  allow_msg_ttl?: boolean;
  subject_delete_marker_ttl?: number;
  allow_msg_schedules?: boolean;
};

/**
 * The configuration a declaration asks for; newer servers' fields only when declared. A stream
 * taking schedules also stores the subjects that hold them.
 */
function toStreamConfig(d: StreamDefinition, schedules: boolean): StreamSettings {
  return {
    name: d.name,
    subjects: schedules ? [...d.subjects, scheduleSubject(d.name)] : [...d.subjects],
    description: d.description || undefined,
    retention: d.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    storage: d.storage === 'memory' ? StorageType.Memory : StorageType.File,
    max_age: nanos(d.maxAgeMs),
    max_msgs: d.maxMsgs,
    max_bytes: d.maxBytes,
    duplicate_window: nanos(d.duplicateWindowMs),
    num_replicas: d.replicas,
    ...(d.allowMsgTtl && { allow_msg_ttl: true }),
    // A marker is a roll-up of its subject: the stream must allow roll-up headers.
    ...(d.subjectDeleteMarkerTtlMs > 0 && {
      subject_delete_marker_ttl: nanos(d.subjectDeleteMarkerTtlMs),
      allow_rollup_hdrs: true,
    }),
    ...(schedules && { allow_msg_schedules: true }),
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
