import { Command } from 'commander';
import { JetStreamApi } from '../jetstream-api';
import {
  timeoutOf,
  UsageError,
  withClient,
  withConnectionOptions,
  type ConnectionFlags,
} from '../connection';
import { print, table } from '../output';

interface PauseFlags extends ConnectionFlags {
  for: string;
  until?: string;
}

const DURATION = /^(\d+)(s|m|h)$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };

/** When a pause ends: `--until <time>`, else `--for <duration>` from now. */
function pauseEnd(flags: PauseFlags): Date {
  if (flags.until !== undefined) {
    const until = new Date(flags.until);
    if (Number.isNaN(until.getTime()) || !/(Z|[+-]\d\d:?\d\d)$/i.test(flags.until))
      throw new UsageError(
        `--until takes an ISO 8601 time with its zone ('2026-12-24T18:00:00Z'), got '${flags.until}'`,
      );
    return until;
  }
  const match = DURATION.exec(flags.for);
  if (!match)
    throw new UsageError(`--for takes seconds, minutes or hours ('90s', '5m'), got '${flags.for}'`);
  return new Date(Date.now() + Number(match[1]) * (UNIT_MS[match[2] as string] as number));
}

/** `brigade consumers ls|pause|resume`: durable consumers, and the operator's hand on them. */
export function consumersCommand(): Command {
  const consumers = new Command('consumers').description(
    'list durable consumers with their lag; pause and resume one (nats-server 2.11 or later)',
  );

  consumers.addCommand(
    withConnectionOptions(new Command('ls'))
      .description('every consumer of every stream: pending, unacknowledged, redelivered, paused')
      .argument('[stream]', 'only the consumers of this stream')
      .option('--json', 'print JSON')
      .action(async (stream: string | undefined, flags: ConnectionFlags) => {
        const streams = await withClient(flags, (c) =>
          new JetStreamApi(c, timeoutOf(flags)).streams(),
        );
        const rows = streams
          .filter((s) => stream === undefined || s.name === stream)
          .flatMap((s) => s.consumers.map((c) => ({ stream: s.name, ...c })));
        if (flags.json) return print(JSON.stringify(rows, null, 2));
        if (rows.length === 0)
          return print(stream === undefined ? 'no consumers' : `no consumers of '${stream}'`);
        print(
          table(
            ['STREAM', 'CONSUMER', 'PENDING', 'UNACKED', 'REDELIVERED', 'PAUSED UNTIL'],
            rows.map((r) => [
              r.stream,
              r.name,
              String(r.pending),
              String(r.ackPending),
              String(r.redelivered),
              r.pausedUntil ?? '-',
            ]),
          ),
        );
      }),
  );

  consumers.addCommand(
    withConnectionOptions(new Command('pause'))
      .description('pause a consumer on the server: no instance gets its messages until then')
      .argument('<stream>', 'its stream')
      .argument('<consumer>', 'its name')
      .option('--for <duration>', 'how long (90s, 5m, 2h)', '5m')
      .option('--until <time>', 'until this time (ISO 8601 with its zone), instead of --for')
      .action(async (stream: string, consumer: string, flags: PauseFlags) => {
        const until = pauseEnd(flags);
        const state = await withClient(flags, (c) =>
          new JetStreamApi(c, timeoutOf(flags)).pause(stream, consumer, until),
        );
        print(
          `paused consumer '${consumer}' of '${stream}' until ${state.until ?? until.toISOString()}`,
        );
      }),
  );

  consumers.addCommand(
    withConnectionOptions(new Command('resume'))
      .description('resume a paused consumer now')
      .argument('<stream>', 'its stream')
      .argument('<consumer>', 'its name')
      .action(async (stream: string, consumer: string, flags: ConnectionFlags) => {
        await withClient(flags, (c) =>
          new JetStreamApi(c, timeoutOf(flags)).pause(stream, consumer),
        );
        print(`resumed consumer '${consumer}' of '${stream}'`);
      }),
  );

  return consumers;
}
