import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const INSTALL_HINT =
  'install it (Debian/Ubuntu: `apt-get update && apt-get install -y nats-server`) or set NATS_SERVER_BIN to its path';

/** `$NATS_SERVER_BIN`, else `nats-server` on PATH (and the sbin folders Debian installs it to). */
export function findNatsServer(): string {
  const explicit = process.env['NATS_SERVER_BIN'];
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new Error(
      `NATS_SERVER_BIN is '${explicit}', which is not an executable file: ${INSTALL_HINT}`,
    );
  }
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
  throw new Error(`nats-server was not found on PATH: ${INSTALL_HINT}`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
