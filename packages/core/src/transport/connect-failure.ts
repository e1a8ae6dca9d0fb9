import { connect as netConnect } from 'node:net';
import type { NatsError } from 'nats';
import type { ConnectionSettings } from './connection-settings';
import { DEFAULT_SERVER } from './server-urls';

/** Why a first connection failed, in words that say what to check; credentials never appear. */
export async function describeConnectFailure(
  cause: unknown,
  settings: ConnectionSettings & { readonly servers: readonly string[] },
): Promise<string> {
  return (await tlsRefusal(cause, settings)) ?? describeConnectError(cause, settings);
}

function describeConnectError(cause: unknown, settings: ConnectionSettings): string {
  const err = cause as Partial<NatsError> & { chainedError?: Error };
  const detail = `${err.message ?? ''} ${err.chainedError?.message ?? ''}`;
  if (err.code === 'TLS' || /certificate|ssl|tls|handshake/i.test(detail))
    return `TLS failed: ${(err.chainedError ?? err).message ?? String(cause)}${tlsHint(settings)}`;
  switch (err.code) {
    case 'AUTHORIZATION_VIOLATION':
      return 'authorization violation: the server refused the credentials (check user/password, token, nkey or creds)';
    case 'CONNECTION_REFUSED':
      return 'connection refused: is nats-server running there?';
    case 'CONNECTION_TIMEOUT':
    case 'TIMEOUT':
      return `timed out while connecting${settings.tls ? tlsHint(settings) : ''}`;
    default:
      return err.message ?? String(cause);
  }
}

/** What to check when TLS is involved. */
function tlsHint(settings: ConnectionSettings): string {
  const tls = typeof settings.tls === 'object' ? settings.tls : {};
  return tls.certFile
    ? ' (check that the server trusts the client certificate, and the CA given for the server)'
    : ' (if the server requires a client certificate, give one: nats.tls certFile/keyFile, or NATS_CERT and NATS_KEY)';
}

/**
 * A server that requires a client certificate ends the TLS session without a word the client
 * passes on: the connect just times out. On a time-out, ask the server's INFO (sent in clear
 * before TLS starts) whether that is why.
 */
async function tlsRefusal(
  cause: unknown,
  settings: ConnectionSettings & { readonly servers: readonly string[] },
): Promise<string | undefined> {
  const code = (cause as Partial<NatsError>).code;
  const tls = typeof settings.tls === 'object' ? settings.tls : {};
  if ((code !== 'TIMEOUT' && code !== 'CONNECTION_TIMEOUT') || tls.certFile) return undefined;
  const info = await serverInfo(settings.servers[0] ?? DEFAULT_SERVER);
  if (info?.['tls_verify'] !== true) return undefined;
  return 'TLS failed: the server requires a client certificate (mutual TLS) and none was given: set nats.tls certFile and keyFile, or NATS_CERT and NATS_KEY';
}

/** The INFO a NATS server greets a connection with, or `undefined` within a second. */
function serverInfo(server: string): Promise<Record<string, unknown> | undefined> {
  const { hostname, port } = new URL(server.includes('://') ? server : `nats://${server}`);
  return new Promise((resolve) => {
    const socket = netConnect({
      host: hostname.replace(/^\[|\]$/g, ''),
      port: Number(port || 4222),
    });
    let greeting = '';
    const done = (info: Record<string, unknown> | undefined): void => {
      socket.destroy();
      resolve(info);
    };
    socket.setTimeout(1_000, () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on('data', (chunk: Buffer) => {
      greeting += chunk.toString('utf8');
      const end = greeting.indexOf('\r\n');
      if (end < 0) return;
      try {
        done(JSON.parse(greeting.slice(greeting.indexOf(' ') + 1, end)) as Record<string, unknown>);
      } catch {
        done(undefined);
      }
    });
  });
}
