import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAccount, createOperator, createUser, type KeyPair } from 'nkeys.js';
import { fetchDebianProgram } from '@brigade/testing';

/** PEM files of a throwaway CA, a server certificate for 127.0.0.1 and a client certificate. */
export interface Certificates {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/**
 * The openssl program: the installed one; else, on a Debian or Ubuntu machine, the
 * distribution's package fetched once into the testing kit's cache (no root, nothing installed);
 * else `undefined`.
 */
export function opensslProgram(): string | undefined {
  if (spawnSync('openssl', ['version']).status === 0) return 'openssl';
  try {
    const program = fetchDebianProgram({ package: 'openssl', program: 'usr/bin/openssl' });
    return spawnSync(program, ['version']).status === 0 ? program : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Skips the calling suite, saying in one line what to install, when no openssl can be had;
 * under `CI=true`, where `.ci/run` installs it, a missing one fails instead.
 */
export function skipWithoutOpenssl(suite: Mocha.Context): void {
  if (opensslProgram() !== undefined || process.env['CI'] === 'true') return;
  console.log('      skipped: no openssl to make certificates with (apt-get install -y openssl)');
  suite.skip();
}

/** Makes the certificates with openssl, in a fresh temporary folder. */
export function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'brigade-tls-'));
  const file = (name: string): string => join(dir, name);
  const program = opensslProgram() ?? 'openssl';
  const openssl = (...args: string[]): void => {
    execFileSync(program, args, { stdio: 'pipe' });
  };
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=Brigade test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  );
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, ext] of [
    ['server', 'server.ext'],
    ['client', 'client.ext'],
  ] as const) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(ext),
      '-out',
      file(`${name}.pem`),
    );
  }
  return {
    dir,
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
  };
}

const encoder = new TextEncoder();

function base64url(data: Uint8Array | string): string {
  return Buffer.from(typeof data === 'string' ? encoder.encode(data) : data).toString('base64url');
}

/** A NATS JWT (v2) with `claims`, issued and signed by `issuer`. */
function signJwt(
  issuer: KeyPair,
  subject: string,
  name: string,
  nats: Record<string, unknown>,
): string {
  const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const claims = base64url(
    JSON.stringify({
      jti: randomBytes(16).toString('hex').toUpperCase(),
      iat: Math.floor(Date.now() / 1000),
      iss: issuer.getPublicKey(),
      name,
      sub: subject,
      nats: { ...nats, version: 2 },
    }),
  );
  const signature = base64url(issuer.sign(encoder.encode(`${header}.${claims}`)));
  return `${header}.${claims}.${signature}`;
}

/**
 * Operator mode, as nsc would set it up: an operator, an account it signed (preloaded in the
 * server's memory resolver) and a user the account signed, whose `.creds` file a client uses.
 */
export interface OperatorSetup {
  /** The nats-server configuration file. */
  readonly config: string;
  readonly creds: string;
  /** A `.creds` file of a user signed by another account's key: the server must refuse it. */
  readonly foreignCreds: string;
}

export function makeOperatorSetup(dir: string): OperatorSetup {
  const operator = createOperator();
  const account = createAccount();
  const unlimited = { subs: -1, data: -1, payload: -1 };
  const operatorJwt = signJwt(operator, operator.getPublicKey(), 'brigade-test', {
    type: 'operator',
  });
  const accountJwt = signJwt(operator, account.getPublicKey(), 'restaurant', {
    type: 'account',
    limits: { ...unlimited, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 },
  });
  const config = join(dir, 'operator.conf');
  writeFileSync(
    config,
    `operator: ${operatorJwt}\nresolver: MEMORY\nresolver_preload: {\n  ${account.getPublicKey()}: ${accountJwt}\n}\n`,
  );
  const credsOf = (signer: KeyPair, file: string): string => {
    const user = createUser();
    const jwt = signJwt(signer, user.getPublicKey(), 'cook', {
      type: 'user',
      pub: {},
      sub: {},
      ...unlimited,
    });
    const seed = new TextDecoder().decode(user.getSeed());
    const path = join(dir, file);
    writeFileSync(
      path,
      `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n` +
        `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
    );
    return path;
  };
  return {
    config,
    creds: credsOf(account, 'cook.creds'),
    foreignCreds: credsOf(createAccount(), 'stranger.creds'),
  };
}

/** A server configuration accepting one NKey user; returns its path and the user's seed. */
export function makeNkeyConfig(dir: string): { config: string; seed: string } {
  const user = createUser();
  const config = join(dir, 'nkey.conf');
  writeFileSync(config, `authorization { users = [ { nkey: ${user.getPublicKey()} } ] }\n`);
  return { config, seed: new TextDecoder().decode(user.getSeed()) };
}
