import { Command } from 'commander';
import { NotFound, withClient, withConnectionOptions, type ConnectionFlags } from '../connection';
import { print, table } from '../output';

/** `brigade schedules ls|cancel`: what streams hold for the server to publish later. */
export function schedulesCommand(): Command {
  const schedules = new Command('schedules').description(
    'list and cancel messages the server publishes later (nats-server 2.12 or later)',
  );

  schedules.addCommand(
    withConnectionOptions(new Command('ls'))
      .description('list schedules, by stream and name')
      .argument('[stream]', 'only those of this stream (default: every stream that takes them)')
      .option('--json', 'print JSON')
      .action(async (stream: string | undefined, flags: ConnectionFlags) => {
        const listed = await withClient(flags, (c) => c.schedules.list(stream));
        if (flags.json) return print(JSON.stringify(listed, null, 2));
        if (listed.length === 0) return print('no schedules');
        print(
          table(
            ['STREAM', 'NAME', 'SUBJECT', 'SCHEDULE', 'SCHEDULED AT'],
            listed.map((s) => [
              s.stream,
              s.name,
              s.subject,
              s.timeZone ? `${s.schedule} (${s.timeZone})` : s.schedule,
              s.scheduledAt,
            ]),
          ),
        );
      }),
  );

  schedules.addCommand(
    withConnectionOptions(new Command('cancel'))
      .description('remove a schedule before it fires (or fires again)')
      .argument('<stream>', 'the stream holding it')
      .argument('<name>', 'its name')
      .action(async (stream: string, name: string, flags: ConnectionFlags) => {
        const cancelled = await withClient(flags, (c) => c.schedules.cancel(stream, name));
        if (!cancelled)
          throw new NotFound(
            `stream '${stream}' holds no schedule '${name}' (a fired one-off is gone)`,
          );
        print(`cancelled schedule '${name}' of stream '${stream}'`);
      }),
  );

  return schedules;
}
