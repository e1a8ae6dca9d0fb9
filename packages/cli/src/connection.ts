import { type Command, Option } from 'commander';
import { BrigadeClient, type ConnectionSettings } from '@brigade/core';

/** Options every command that talks to NATS takes. */
export interface ConnectionFlags {
  server?: string;
  user?: string;
  password?: string;
  token?: string;
  creds?: string;
  nkey?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  timeout: string;
  json?: boolean;
}

/** The options `withConnectionOptions` adds, by attribute name. */
const CONNECTION_OPTIONS = [
  'server',
  'user',
  'password',
  'token',
  'creds',
  'nkey',
  'tlsCa',
  'tlsCert',
  'tlsKey',
  'timeout',
] as const;

/**
 * Lets the connection options go before the command as well (`brigade -s URL ls`): what was given
 * on the command line to `program` fills in for the command that runs, where that command's own
 * value came only from the environment or a default.
 */
export function acceptConnectionOptionsFirst(program: Command): void {
  withConnectionOptions(program);
  program.hook('preAction', (root, command) => {
    if (command === root) return;
    for (const name of CONNECTION_OPTIONS) {
      if (root.getOptionValueSource(name) !== 'cli') continue;
      if (command.getOptionValueSource(name) === 'cli') continue;
      if (!command.options.some((o) => o.attributeName() === name)) continue;
      command.setOptionValueWithSource(name, root.getOptionValue(name), 'cli');
    }
  });
}

export function withConnectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option('-s, --server <urls>', 'NATS server URL(s), comma-separated')
        .env('NATS_URL')
        .default('nats://127.0.0.1:4222'),
    )
    .addOption(new Option('--user <user>', 'user name').env('NATS_USER'))
    .addOption(new Option('--password <password>', 'password').env('NATS_PASSWORD'))
    .addOption(new Option('--token <token>', 'authentication token').env('NATS_TOKEN'))
    .addOption(new Option('--creds <file>', 'credentials (.creds) file').env('NATS_CREDS'))
    .addOption(new Option('--nkey <seed>', 'NKey seed').env('NATS_NKEY'))
    .option('--tls-ca <file>', 'CA certificate for TLS')
    .option('--tls-cert <file>', 'client certificate for TLS')
    .option('--tls-key <file>', 'client key for TLS')
    .option('--timeout <ms>', 'how long to wait for answers, in ms', '2000');
}

export function connectionSettings(flags: ConnectionFlags): ConnectionSettings {
  const tls =
    flags.tlsCa || flags.tlsCert || flags.tlsKey
      ? { caFile: flags.tlsCa, certFile: flags.tlsCert, keyFile: flags.tlsKey }
      : undefined;
  return {
    servers: flags.server,
    name: 'brigade-cli',
    user: flags.user,
    pass: flags.password,
    token: flags.token,
    credentialsFile: flags.creds,
    nkeySeed: flags.nkey,
    tls,
    maxReconnectAttempts: 0,
    connectTimeoutMs: Math.max(1_000, timeoutOf(flags)),
  };
}

export function timeoutOf(flags: ConnectionFlags): number {
  const ms = Number(flags.timeout);
  if (!Number.isFinite(ms) || ms <= 0)
    throw new UsageError(
      `--timeout takes a positive number of milliseconds, got '${flags.timeout}'`,
    );
  return ms;
}

/** A mistake in how the command was called: exit status 2. */
export class UsageError extends Error {}

/** Nothing answered (no service, no reply): exit status 1, with the reason. */
export class NotFound extends Error {}

/** The host and port of each server URL of the flags, never its credentials. */
export function hostsOf(servers: string | undefined): string[] {
  return (servers ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      try {
        const url = new URL(s.includes('://') ? s : `nats://${s}`);
        return `${url.hostname}:${url.port || '4222'}`;
      } catch {
        return s;
      }
    });
}

/** Nothing answered `what`: says which server was asked and how to ask another. */
export function noAnswer(flags: ConnectionFlags, what: string): NotFound {
  const where = hostsOf(flags.server)
    .map((h) => `nats://${h}`)
    .join(', ');
  return new NotFound(`${what} at ${where} (set --server or NATS_URL)`);
}

/** How long discovery and `request --all` wait for one more answer after the last. */
export const STALL_MS = 300;

/** Runs `work` with a client, closing it afterwards. */
export async function withClient<T>(
  flags: ConnectionFlags,
  work: (client: BrigadeClient) => Promise<T>,
): Promise<T> {
  const client = await BrigadeClient.connect({
    nats: connectionSettings(flags),
    requestTimeoutMs: timeoutOf(flags),
    logger: { level: 'silent' },
  });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}
