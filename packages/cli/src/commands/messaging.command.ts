import { Command } from 'commander';
import { ServiceError, type CodecError, type HeaderInit } from '@brigade/core';
import {
  NotFound,
  STALL_MS,
  timeoutOf,
  UsageError,
  withClient,
  withConnectionOptions,
  type ConnectionFlags,
} from '../connection';
import { formatBody, print } from '../output';

interface MessageFlags extends ConnectionFlags {
  header: string[];
  durable?: boolean;
  msgId?: string;
  all?: boolean;
}

function parseBody(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(
      `the body must be JSON: ${(err as Error).message} (quote it for the shell, e.g. '{"id":1}')`,
    );
  }
}

function collectHeader(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseHeaders(pairs: readonly string[]): HeaderInit | undefined {
  if (pairs.length === 0) return undefined;
  const headers: Record<string, string[]> = {};
  for (const pair of pairs) {
    const at = pair.indexOf(':');
    const name = pair.slice(0, at).trim();
    if (at <= 0 || name.length === 0)
      throw new UsageError(`a header is 'Name: value', got '${pair}'`);
    (headers[name] ??= []).push(pair.slice(at + 1).trim());
  }
  return headers;
}

/** What `request` and `publish` share: a subject, an optional JSON body, headers. */
function messageCommand(name: string, alias: string, description: string): Command {
  return withConnectionOptions(new Command(name))
    .alias(alias)
    .description(description)
    .argument('<subject>', 'the subject to send to')
    .argument('[json]', 'the body, as JSON')
    .option('-H, --header <name:value>', 'a header to send (repeatable)', collectHeader, []);
}

/** `request --all`: every reply within the timeout (or until they stall), each printed; exit 1 when none. */
async function gatherReplies(
  subject: string,
  payload: unknown,
  headers: HeaderInit | undefined,
  flags: MessageFlags,
): Promise<void> {
  const replies = await withClient(flags, (c) =>
    c.bus.requestMany(subject, payload, { headers, maxWait: timeoutOf(flags), stall: STALL_MS }),
  );
  if (replies.length === 0) throw new NotFound(`no replies on '${subject}'`);
  const shown = replies.map((r) =>
    r.ok
      ? { ok: true, value: r.value }
      : { ok: false, status: statusOf(r.error), error: r.error.message },
  );
  if (flags.json) {
    print(JSON.stringify(shown, null, 2));
  } else {
    shown.forEach((r, i) => {
      print(`reply ${i + 1} of ${shown.length}:`);
      print(r.ok ? formatBody(r.value) : `error ${r.status ?? 'unreadable'}: ${r.error}`);
    });
  }
  if (replies.some((r) => !r.ok)) process.exitCode = 1;
}

/** An error reply's status; none for a reply that could not be read. */
function statusOf(error: ServiceError | CodecError): number | undefined {
  return error instanceof ServiceError ? error.status : undefined;
}

export function messagingCommands(): Command[] {
  const request = messageCommand(
    'request',
    'req',
    'send a request and print the reply; an error reply prints its code and exits 1',
  )
    .option(
      '--all',
      'gather every reply (a broadcast endpoint, every instance), not only the first',
    )
    .option('--json', 'with --all: print the replies as a JSON array')
    .action(async (subject: string, body: string | undefined, flags: MessageFlags) => {
      const payload = parseBody(body);
      const headers = parseHeaders(flags.header);
      if (flags.json && !flags.all) throw new UsageError('--json goes with --all');
      if (flags.all) {
        await gatherReplies(subject, payload, headers, flags);
        return;
      }
      const reply = await withClient(flags, (c) =>
        c.bus.request<Uint8Array>(subject, payload, {
          headers,
          timeout: timeoutOf(flags),
          raw: true,
        }),
      );
      print(formatBody(reply));
    });

  const publish = messageCommand('publish', 'pub', 'publish an event')
    .option('--durable', 'publish through JetStream and wait until a stream stored it')
    .option('--msg-id <id>', 'Nats-Msg-Id for de-duplication (with --durable)')
    .action(async (subject: string, body: string | undefined, flags: MessageFlags) => {
      const payload = parseBody(body);
      const headers = parseHeaders(flags.header);
      if (flags.msgId && !flags.durable) throw new UsageError('--msg-id needs --durable');
      await withClient(flags, async (c) => {
        if (flags.durable) {
          const ack = await c.bus.publish(subject, payload, {
            headers,
            durable: true,
            msgId: flags.msgId,
            timeout: timeoutOf(flags),
          });
          print(
            `stored in ${ack.stream} as sequence ${ack.sequence}${ack.duplicate ? ' (duplicate: stored once before)' : ''}`,
          );
        } else {
          await c.bus.publish(subject, payload, { headers });
          await c.bus.flush();
          print(`published to ${subject}`);
        }
      });
    });

  return [request, publish];
}
