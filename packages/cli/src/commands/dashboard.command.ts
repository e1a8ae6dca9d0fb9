import { Command } from 'commander';
import { BrigadeClient } from '@brigade/core';
import {
  connectionSettings,
  STALL_MS,
  timeoutOf,
  UsageError,
  withConnectionOptions,
  type ConnectionFlags,
} from '../connection';
import { DashboardCollector } from '../dashboard/collector';
import { DashboardServer } from '../dashboard/server';
import { print } from '../output';

interface DashboardFlags extends ConnectionFlags {
  port: string;
  host: string;
  pollMs: string;
  historyMinutes: string;
  dlqStream: string;
  allowActions?: boolean;
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new UsageError(`${flag} takes a whole number from ${min} to ${max}, got '${text}'`);
  return value;
}

export function dashboardCommand(): Command {
  return withConnectionOptions(new Command('dashboard'))
    .description(
      'serve a live web page of the services (any NATS Service API service), streams, consumers and dead letters',
    )
    .option('--port <port>', 'the port of the page (0 picks a free one)', '7777')
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--poll-ms <ms>', 'how often the bus is asked, however many pages are open', '1000')
    .option('--history-minutes <n>', 'how far back the charts reach', '5')
    .option('--dlq-stream <name>', 'the dead-letter stream', 'DEAD_LETTERS')
    .option('--allow-actions', 'let the page replay and delete dead letters (read-only without)')
    .action(async (flags: DashboardFlags) => {
      const port = wholeNumber('--port', flags.port, 0, 65_535);
      const pollMs = wholeNumber('--poll-ms', flags.pollMs, 100, 60_000);
      const historyMs = wholeNumber('--history-minutes', flags.historyMinutes, 1, 60) * 60_000;
      const timeoutMs = timeoutOf(flags);
      const settings = {
        ...connectionSettings(flags),
        name: 'brigade-dashboard',
        // The page outlives outages: it says NATS is away and shows it back when it is.
        maxReconnectAttempts: -1,
      };
      const collector = new DashboardCollector(
        () =>
          BrigadeClient.connect({
            nats: settings,
            requestTimeoutMs: timeoutMs,
            logger: { level: 'silent' },
          }),
        flags.server ?? '',
        {
          pollMs,
          historyMs,
          timeoutMs,
          stallMs: Math.min(STALL_MS, pollMs),
          deadLetterStream: flags.dlqStream,
          deadLetterLimit: 100,
        },
      );
      const server = new DashboardServer(collector, {
        host: flags.host,
        port,
        allowActions: flags.allowActions === true,
      });
      const url = await server.listen().catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE')
          throw new Error(
            `${flags.host}:${port} is in use: pick another --port (0 takes any free one)`,
          );
        throw err;
      });
      collector.start();
      print(`Brigade dashboard on ${url}`);
      print(
        flags.allowActions
          ? 'dead-letter actions (replay, delete) are allowed'
          : 'read-only: start with --allow-actions to replay or delete dead letters',
      );
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void Promise.all([server.close(), collector.stop()]).then(() => resolve());
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
