#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import {
  BrigadeError,
  InvalidKeyError,
  InvalidOptionError,
  InvalidSubjectError,
  ServiceError,
} from '@brigade/core';
import { acceptConnectionOptionsFirst, NotFound, UsageError } from './connection';
import { discoveryCommands } from './commands/discovery.command';
import { asyncApiCommand } from './commands/asyncapi.command';
import { dashboardCommand } from './commands/dashboard.command';
import { dlqCommand } from './commands/dlq.command';
import { messagingCommands } from './commands/messaging.command';
import { newCommand } from './commands/new.command';
import { schedulesCommand } from './commands/schedules.command';
import { consumersCommand } from './commands/consumers.command';
import { CLI_VERSION } from './version';

const program = new Command('brigade')
  .description(
    'Scaffold Brigade services; discover, inspect and call any NATS service; manage dead letters, schedules and consumers; watch it all on a dashboard.',
  )
  .version(CLI_VERSION)
  .showHelpAfterError()
  .exitOverride();

acceptConnectionOptionsFirst(program);
program.addCommand(newCommand());
for (const command of [...discoveryCommands(), ...messagingCommands()]) program.addCommand(command);
program.addCommand(dlqCommand());
program.addCommand(schedulesCommand());
program.addCommand(consumersCommand());
program.addCommand(asyncApiCommand());
program.addCommand(dashboardCommand());
for (const command of program.commands) command.exitOverride().showHelpAfterError();

/** What the user typed wrong, found before anything was sent: a usage error as well. */
function isBadInput(err: unknown): boolean {
  return (
    err instanceof UsageError ||
    err instanceof InvalidOptionError ||
    err instanceof InvalidSubjectError ||
    err instanceof InvalidKeyError
  );
}

/** Exit statuses: 0 done, 1 it failed (error reply, nothing answered, no server), 2 wrong usage. */
program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  if (isBadInput(err)) {
    process.stderr.write(`brigade: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (err instanceof ServiceError) {
    process.stderr.write(`error ${err.status}: ${err.message}\n`);
    if (err.details !== undefined)
      process.stderr.write(`${JSON.stringify(err.details, null, 2)}\n`);
    process.exit(1);
  }
  if (err instanceof BrigadeError || err instanceof NotFound) {
    process.stderr.write(`brigade: ${err.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`brigade: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
