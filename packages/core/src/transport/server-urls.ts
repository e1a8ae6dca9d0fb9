import { readFileSync } from 'node:fs';
import { InvalidOptionError } from '../common/errors';
import type { ConnectionSettings } from './connection-settings';

export const DEFAULT_SERVER = '127.0.0.1:4222';
const SCHEMES = new Set(['nats:', 'tls:']);
/** An NKey seed: `S`, the key type, then base32. Anything else in NATS_NKEY is a file's path. */
const NKEY_SEED = /^S[A-Z][A-Z2-7]{50,}$/;

/** Server URLs with any credentials taken out of them, and those credentials. */
export interface ParsedServers {
  /** `scheme://host:port`, without credentials: what the client gets and the logs show. */
  readonly servers: string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
}

/**
 * Parses server URLs (`nats://`, `tls://` or a bare `host:port`) and takes credentials out of
 * them: `nats://user:password@host` gives user and password, `nats://token@host` a token. The
 * `nats` client ignores credentials in a URL, and reads a password that starts with digits as a
 * port. Every failure names the URL with its credentials masked.
 */
export function parseServers(servers: string | readonly string[]): ParsedServers {
  const list = (typeof servers === 'string' ? servers.split(',') : [...servers])
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0)
    throw new InvalidOptionError('no NATS server given: set `nats.servers` or NATS_URL');
  const parsed = list.map(parseServer);
  const withCredentials = parsed.filter((p) => p.user !== undefined || p.token !== undefined);
  const first = withCredentials[0];
  for (const other of withCredentials.slice(1)) {
    if (other.user !== first?.user || other.pass !== first?.pass || other.token !== first?.token)
      throw new InvalidOptionError(
        `the NATS server URLs carry different credentials (${list.map(redactUrl).join(', ')}): give them once, in the connection settings or NATS_USER/NATS_PASSWORD/NATS_TOKEN`,
      );
  }
  return { ...first, servers: parsed.map((p) => p.server) };
}

function parseServer(text: string): {
  server: string;
  user?: string;
  pass?: string;
  token?: string;
} {
  const shown = redactUrl(text);
  const mistake = schemeMistake(shown);
  if (mistake) throw new InvalidOptionError(`invalid NATS server URL '${shown}': ${mistake}`);
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `nats://${text}`);
  } catch {
    throw new InvalidOptionError(
      `invalid NATS server URL '${shown}': expected nats://host:port, tls://host:port or host:port`,
    );
  }
  if (!SCHEMES.has(url.protocol))
    throw new InvalidOptionError(
      `invalid NATS server URL '${shown}': the scheme must be nats:// or tls://, not ${url.protocol}//`,
    );
  if (url.hostname === '')
    throw new InvalidOptionError(`invalid NATS server URL '${shown}': it names no host`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash)
    throw new InvalidOptionError(
      `invalid NATS server URL '${shown}': a server URL has no path, query or fragment`,
    );
  const server = `${url.protocol}//${url.host}`;
  const user = decode(url.username, shown);
  const secret = decode(url.password, shown);
  if (user === '') return { server };
  return secret === '' ? { server, token: user } : { server, user, pass: secret };
}

/** What is wrong with a misspelt `nats://` or `tls://` (a colon or a slash missing), if it is that. */
function schemeMistake(text: string): string | undefined {
  const noColon = /^(nats|tls)\/\/(.*)$/i.exec(text);
  if (noColon) return `the colon after '${noColon[1]}' is missing: ${noColon[1]}://${noColon[2]}`;
  const oneSlash = /^(nats|tls):\/?([^/].*)$/i.exec(text);
  if (oneSlash && !/^\d+$/.test(oneSlash[2] as string))
    return `the scheme takes two slashes: ${oneSlash[1]}://${oneSlash[2]}`;
  return undefined;
}

function decode(part: string, shown: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new InvalidOptionError(`invalid NATS server URL '${shown}': bad percent-encoding`);
  }
}

/** A URL (or list) fit for a log line: whatever stands before `@` is masked. */
export function redactUrl(text: string): string {
  return text.replace(
    /([a-z][a-z0-9+.-]*:\/\/)?[^/@\s,]*@/gi,
    (_m, scheme?: string) => `${scheme ?? ''}***@`,
  );
}

/**
 * The connection settings the environment gives, for what `explicit` leaves unset:
 * `NATS_URL`; `NATS_USER` and `NATS_PASSWORD`; `NATS_TOKEN`; `NATS_NKEY` (a seed, or the path of
 * a file holding one); `NATS_CREDS` (a `.creds` file); `NATS_CA`, `NATS_CERT`, `NATS_KEY` (PEM
 * files for TLS; a CA alone verifies the server, cert and key add a client certificate).
 */
export function withEnvironment(
  explicit: ConnectionSettings,
  env: NodeJS.ProcessEnv = process.env,
): ConnectionSettings {
  const value = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const settings: ConnectionSettings = { ...explicit };
  settings.servers ??= value('NATS_URL');
  const hasAuth =
    explicit.user !== undefined ||
    explicit.token !== undefined ||
    explicit.nkeySeed !== undefined ||
    explicit.credentialsFile !== undefined;
  if (!hasAuth) {
    settings.user = value('NATS_USER');
    settings.pass = value('NATS_PASSWORD');
    settings.token = value('NATS_TOKEN');
    settings.credentialsFile = value('NATS_CREDS');
    const nkey = value('NATS_NKEY');
    if (nkey !== undefined) settings.nkeySeed = NKEY_SEED.test(nkey) ? nkey : readSeed(nkey);
  }
  if (explicit.tls === undefined) {
    const [caFile, certFile, keyFile] = [value('NATS_CA'), value('NATS_CERT'), value('NATS_KEY')];
    if (caFile || certFile || keyFile) settings.tls = { caFile, certFile, keyFile };
  }
  return settings;
}

function readSeed(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (cause) {
    throw new InvalidOptionError(
      `NATS_NKEY is neither an NKey seed nor a readable file (${(cause as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      { cause },
    );
  }
}

/** The settings with the servers parsed and the credentials of their URLs moved into the fields. */
export function withCredentialsOf(
  settings: ConnectionSettings,
): ConnectionSettings & { servers: string[] } {
  const parsed = parseServers(settings.servers ?? DEFAULT_SERVER);
  const fromUrl = parsed.user !== undefined || parsed.token !== undefined;
  const given = settings.user !== undefined || settings.token !== undefined;
  if (
    fromUrl &&
    given &&
    (parsed.user !== settings.user ||
      parsed.pass !== settings.pass ||
      parsed.token !== settings.token)
  ) {
    throw new InvalidOptionError(
      `credentials are given twice, in the server URL (${redactUrl(String(settings.servers))}) and in the settings or environment, and they differ: give them once`,
    );
  }
  return fromUrl
    ? {
        ...settings,
        servers: parsed.servers,
        user: parsed.user,
        pass: parsed.pass,
        token: parsed.token,
      }
    : { ...settings, servers: parsed.servers };
}
