import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@brigade/testing';
import { freePort } from '../../scripts/supervisor';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const VERDACCIO = join(ROOT, 'node_modules/verdaccio/bin/verdaccio');

/**
 * The environment of a child npm, without what the npm running this spec exported to it
 * (`npm_config_registry` and the like would outrank the project's own `.npmrc`).
 */
export function cleanNpmEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^npm_(config|package|lifecycle)_/i.test(name)),
  );
}

/** Runs a command, failing with everything it printed when it fails. */
export async function sh(
  command: string,
  args: readonly string[],
  cwd: string,
  timeout = 240_000,
): Promise<string> {
  try {
    const { stdout } = await run(command, args, {
      cwd,
      env: cleanNpmEnvironment(),
      timeout,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const failed = err as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) failed: ${failed.message}\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`,
    );
  }
}

/**
 * A verdaccio registry of its own on a loopback port: `@brigade/*` exists only in it (published
 * here, never proxied); every other package is proxied from the registry npm is configured with.
 */
export class LocalRegistry {
  private constructor(
    readonly url: string,
    private readonly token: string,
    private readonly process: ChildProcess,
    private readonly output: string[],
  ) {}

  static async start(dir: string): Promise<LocalRegistry> {
    const upstream = (await sh('npm', ['config', 'get', 'registry'], ROOT)).trim();
    const port = await freePort();
    mkdirSync(join(dir, 'storage'), { recursive: true });
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      [
        `storage: ${join(dir, 'storage')}`,
        'auth:',
        '  htpasswd:',
        `    file: ${join(dir, 'htpasswd')}`,
        'uplinks:',
        '  npmjs:',
        `    url: ${upstream}`,
        '    timeout: 60s',
        'packages:',
        "  '@brigade/*':",
        '    access: $all',
        '    publish: $authenticated',
        "  '**':",
        '    access: $all',
        '    proxy: npmjs',
        'web:',
        '  enable: false',
        'log: { type: stdout, format: json, level: warn }',
        '',
      ].join('\n'),
    );
    const child = spawn(
      process.execPath,
      [VERDACCIO, '--config', config, '--listen', `127.0.0.1:${port}`],
      { cwd: dir, env: cleanNpmEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output: string[] = [];
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`verdaccio exited: ${output.join('')}`);
          return (await fetch(`${url}/-/ping`).catch(() => undefined))?.ok === true;
        },
        { timeout: 30_000, interval: 200, message: 'verdaccio did not answer its ping' },
      );
      const created = await fetch(`${url}/-/user/org.couchdb.user:brigade`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'brigade', password: 'brigade-spec-password' }),
      });
      const { token } = (await created.json()) as { token?: string };
      if (!token) throw new Error(`verdaccio created no user: ${created.status}`);
      return new LocalRegistry(url, token, child, output);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  /** An `.npmrc` that installs from this registry alone (and may publish to it). */
  npmrc(): string {
    const host = this.url.replace(/^http:/, '');
    return `registry=${this.url}/\n${host}/:_authToken=${this.token}\nfund=false\naudit=false\n`;
  }

  /** Publishes the package in `dir` as it is built now. */
  async publish(dir: string, userconfig: string): Promise<void> {
    await sh('npm', ['publish', '--userconfig', userconfig, '--registry', `${this.url}/`], dir);
  }

  /** What verdaccio printed, for a failure's message. */
  get log(): string {
    return this.output.join('');
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null) return;
    const exited = new Promise((done) => this.process.once('exit', done));
    this.process.kill('SIGTERM');
    await exited;
  }
}
