import { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import type { DeadLetter } from '@brigade/core';
import { UsageError, withClient, withConnectionOptions, type ConnectionFlags } from '../connection';
import { formatBody, print, table } from '../output';

interface DlqFlags extends ConnectionFlags {
  stream?: string;
  consumer?: string;
  limit: string;
  dlqStream?: string;
  yes?: boolean;
}

function withDlqOptions(command: Command): Command {
  return withConnectionOptions(command).option(
    '--dlq-stream <name>',
    'the dead-letter stream',
    'DEAD_LETTERS',
  );
}

function sequenceOf(text: string): number {
  const seq = Number(text);
  if (!Number.isSafeInteger(seq) || seq < 1)
    throw new UsageError(`a dead letter's sequence is a whole number, got '${text}'`);
  return seq;
}

function clientOptions(flags: DlqFlags) {
  return { stream: flags.dlqStream };
}

function describe(letter: DeadLetter): string {
  const { origin } = letter;
  return [
    `sequence   ${letter.sequence}`,
    `time       ${letter.time}`,
    `reason     ${letter.reason}`,
    `code       ${letter.code}`,
    `attempts   ${letter.attempts}`,
    `origin     ${origin.stream} #${origin.sequence} via consumer ${origin.consumer}`,
    `subject    ${origin.subject}`,
    ...Object.entries(letter.headers).map(([k, v]) => `header     ${k}: ${v.join(', ')}`),
    'payload',
    formatBody(letter.data),
  ].join('\n');
}

export function dlqCommand(): Command {
  const dlq = new Command('dlq').description('list, inspect and replay dead letters');

  dlq.addCommand(
    withDlqOptions(new Command('ls'))
      .description('list dead letters, oldest first')
      .option('--stream <name>', 'only those from this stream')
      .option('--consumer <name>', 'only those from this consumer')
      .option('--limit <n>', 'at most this many', '100')
      .option('--json', 'print JSON')
      .action(async (flags: DlqFlags) => {
        const limit = Number(flags.limit);
        if (!Number.isSafeInteger(limit) || limit < 1)
          throw new UsageError(`--limit takes a whole number, got '${flags.limit}'`);
        const letters = await withClient(flags, (c) =>
          c
            .deadLettersIn(clientOptions(flags))
            .list({ stream: flags.stream, consumer: flags.consumer, limit }),
        );
        if (flags.json) return print(JSON.stringify(letters.map(toJson), null, 2));
        if (letters.length === 0) return print('no dead letters');
        print(
          table(
            ['SEQ', 'TIME', 'ORIGIN', 'SUBJECT', 'ATTEMPTS', 'REASON'],
            letters.map((l) => [
              String(l.sequence),
              l.time,
              `${l.origin.stream}/${l.origin.consumer}#${l.origin.sequence}`,
              l.origin.subject,
              String(l.attempts),
              l.reason,
            ]),
          ),
        );
      }),
  );

  dlq.addCommand(
    withDlqOptions(new Command('show'))
      .description('show one dead letter: reason, origin, headers and payload')
      .argument('<sequence>', 'its sequence in the dead-letter stream')
      .option('--json', 'print JSON')
      .action(async (sequence: string, flags: DlqFlags) => {
        const letter = await withClient(flags, (c) =>
          c.deadLettersIn(clientOptions(flags)).get(sequenceOf(sequence)),
        );
        print(flags.json ? JSON.stringify(toJson(letter), null, 2) : describe(letter));
      }),
  );

  dlq.addCommand(
    withDlqOptions(new Command('replay'))
      .description('publish a dead letter to its original subject again, then remove it')
      .argument('<sequence>', 'its sequence in the dead-letter stream')
      .action(async (sequence: string, flags: DlqFlags) => {
        const ack = await withClient(flags, (c) =>
          c.deadLettersIn(clientOptions(flags)).replay(sequenceOf(sequence)),
        );
        print(
          `replayed dead letter ${sequence}: stored in ${ack.stream} as sequence ${ack.sequence}`,
        );
      }),
  );

  dlq.addCommand(
    withDlqOptions(new Command('delete'))
      .description('remove a dead letter for good (asks first on a terminal; --yes does not)')
      .argument('<sequence>', 'its sequence in the dead-letter stream')
      .option('-y, --yes', 'delete without asking')
      .action(async (sequence: string, flags: DlqFlags) => {
        const seq = sequenceOf(sequence);
        await withClient(flags, async (c) => {
          const letters = c.deadLettersIn(clientOptions(flags));
          // Fetched first: an unknown sequence is refused before anyone is asked anything.
          const letter = await letters.get(seq);
          if (!flags.yes) await confirmDeletion(letter);
          await letters.delete(seq);
        });
        print(`deleted dead letter ${sequence}`);
      }),
  );

  return dlq;
}

/** Asks on a terminal before a deletion; refuses without one, where nobody can answer. */
async function confirmDeletion(letter: DeadLetter): Promise<void> {
  if (!process.stdin.isTTY)
    throw new UsageError(
      `deleting dead letter ${letter.sequence} cannot be undone: pass --yes to confirm (no terminal to ask on)`,
    );
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(
      `delete dead letter ${letter.sequence} (${letter.origin.subject}: ${letter.reason}) for good? [y/N] `,
    );
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('not deleted');
  } finally {
    prompt.close();
  }
}

function toJson(letter: DeadLetter): Record<string, unknown> {
  return { ...letter, data: new TextDecoder().decode(letter.data) };
}
