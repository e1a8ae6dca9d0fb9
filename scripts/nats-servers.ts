/**
 * npm run nats-servers
 *
 * The nats-servers CI tests against, one of each line Debian offers: bookworm's 2.9.10, trixie's
 * 2.10.x and sid's newest. Each is fetched once into the testing kit's cache (`apt-get download`,
 * `dpkg -x`: nothing installed, the system's apt configuration untouched) and its exact version
 * printed, since sid moves. `NATS_SERVER_SUITE=<suite>` runs any spec on one of them.
 */
import { execFileSync } from 'node:child_process';
import { natsServerOfSuite, type NatsServerSuite } from '@brigade/testing';

const SUITES: readonly NatsServerSuite[] = ['bookworm', 'trixie', 'sid'];

for (const suite of SUITES) {
  const path = natsServerOfSuite(suite);
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`${suite.padEnd(8)} ${version.padEnd(22)} ${path}`);
}
