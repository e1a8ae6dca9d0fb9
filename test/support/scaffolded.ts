import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrigadeClient } from '@brigade/core';
import { NatsServer, waitFor } from '@brigade/testing';
import { cleanNpmEnvironment } from './registry';

/**
 * Runs `npm run dev` in a project `brigade new payments` made, against a server of its own: it
 * must serve `payments.greet`, then serve the changed greeting once its source is edited.
 */
export async function expectDevServesAndRestarts(project: string): Promise<void> {
  const server = await NatsServer.start();
  const dev = spawn('npm', ['run', 'dev'], {
    cwd: project,
    env: { ...cleanNpmEnvironment(), NATS_URL: server.url, BRIGADE_LOG_LEVEL: 'warn' },
    stdio: 'ignore',
    detached: true,
  });
  const client = await BrigadeClient.connect({
    nats: { servers: server.url },
    logger: { level: 'silent' },
  });
  try {
    const greeting = () =>
      client.bus
        .request<{ greeting: string }>('payments.greet', { name: 'Ada' }, { timeout: 1_000 })
        .then((reply) => reply.greeting)
        .catch(() => undefined);
    await waitFor(async () => (await greeting()) === 'Hello, Ada!', {
      timeout: 60_000,
      message: 'npm run dev did not serve',
    });
    const source = join(project, 'src/payments.service.ts');
    writeFileSync(source, readFileSync(source, 'utf8').replace('Hello, ', 'Welcome, '));
    await waitFor(async () => (await greeting()) === 'Welcome, Ada!', {
      timeout: 60_000,
      message: 'npm run dev did not restart on change',
    });
  } finally {
    await client.close();
    process.kill(-dev.pid!, 'SIGTERM');
    await server.stop();
  }
}
