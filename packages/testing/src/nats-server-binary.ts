import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { debianProgramPath, fetchDebianProgram, type DebianProgram } from './debian-package';

export const INSTALL_HINT =
  'install it (Debian/Ubuntu: `apt-get update && apt-get install -y nats-server`) or set NATS_SERVER_BIN to its path';

/**
 * `$NATS_SERVER_BIN`; else, with `$NATS_SERVER_SUITE` (`bookworm`, `trixie`, `sid`), that Debian
 * suite's nats-server, fetched once into a cache; else `nats-server` on PATH (and the sbin
 * folders Debian installs it to); else, on a Debian or Ubuntu machine, the distribution's own,
 * fetched once into a cache (`apt-get download`, `dpkg -x`: no root, nothing installed), said in
 * one line the first time.
 */
export function findNatsServer(): string {
  const explicit = process.env['NATS_SERVER_BIN'];
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new Error(
      `NATS_SERVER_BIN is '${explicit}', which is not an executable file: ${INSTALL_HINT}`,
    );
  }
  const suite = process.env['NATS_SERVER_SUITE'];
  if (suite) return fetched({ ...NATS_SERVER_PACKAGE, suite }, `Debian ${suite}'s nats-server`);
  const dirs = [
    ...(process.env['PATH'] ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/usr/local/bin',
  ];
  for (const dir of dirs) {
    const candidate = join(dir, 'nats-server');
    if (dir && isExecutable(candidate)) return candidate;
  }
  try {
    return fetched(NATS_SERVER_PACKAGE, 'nats-server is not installed: the distribution’s');
  } catch (err) {
    throw new Error(
      `nats-server was not found on PATH, nor could the distribution's be fetched (${(err as Error).message}): ${INSTALL_HINT}`,
    );
  }
}

/** The Debian suites whose nats-server a spec may ask for: 2.9.10, 2.10.x and the newest. */
export type NatsServerSuite = 'bookworm' | 'trixie' | 'sid';

/**
 * Debian `suite`'s nats-server (bookworm 2.9.10, trixie 2.10.x, sid the newest), fetched once
 * into a cache (`apt-get download`, `dpkg -x`: no root, nothing installed), said in one line the
 * first time. For specs of features that need a given server line, or its absence.
 */
export function natsServerOfSuite(suite: NatsServerSuite): string {
  return fetched({ ...NATS_SERVER_PACKAGE, suite }, `Debian ${suite}'s nats-server`);
}

/**
 * The newest nats-server to be had, for a demo: the one `$NATS_SERVER_BIN` or
 * `$NATS_SERVER_SUITE` names when set; else Debian sid's (fetched once into a cache); else, when
 * that cannot be fetched (no Debian mirror), `findNatsServer()`'s, with the reason.
 */
export function newestNatsServer(): { binary: string; fallback?: string } {
  if (process.env['NATS_SERVER_BIN'] || process.env['NATS_SERVER_SUITE'])
    return { binary: findNatsServer() };
  try {
    return { binary: natsServerOfSuite('sid') };
  } catch (err) {
    return {
      binary: findNatsServer(),
      fallback: `Debian sid's nats-server could not be fetched (${(err as Error).message})`,
    };
  }
}

const NATS_SERVER_PACKAGE: DebianProgram = {
  package: 'nats-server',
  program: 'usr/sbin/nats-server',
};

/** The program of `what`, fetched when not cached yet, which is said once on stderr. */
function fetched(what: DebianProgram, which: string): string {
  if (existsSync(debianProgramPath(what))) return debianProgramPath(what);
  const path = fetchDebianProgram(what);
  process.stderr.write(
    `${which} package fetched with apt-get download and unpacked with dpkg -x into ${path} (nothing installed on the system; later runs reuse it)\n`,
  );
  return path;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
