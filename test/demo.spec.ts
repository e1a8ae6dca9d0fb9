import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { waitFor } from '@brigade/testing';

const ROOT = resolve(__dirname, '..');

/** `npm run demo` as a terminal runs it: in a process group of its own, output captured. */
class DemoRun {
  readonly child: ChildProcess;
  readonly tmp = mkdtempSync(join(tmpdir(), 'brigade-demo-spec-'));
  readonly exited: Promise<number | null>;
  private out = '';

  /** `asWritten`: through `npm run demo` (`-- ...` when given args), exactly the README's command. */
  constructor(args: readonly string[], env: Record<string, string> = {}, asWritten = false) {
    const [command, argv] = asWritten
      ? ['npm', ['run', 'demo', ...(args.length > 0 ? ['--', ...args] : [])]]
      : [
          process.execPath,
          [
            '--conditions=brigade-source',
            '-r',
            'ts-node/register/transpile-only',
            'scripts/demo.ts',
            ...args,
          ],
        ];
    this.child = spawn(command, argv, {
      cwd: ROOT,
      // Its temporary JetStream store goes to a folder of this run's own, to see it removed.
      env: {
        ...process.env,
        ...env,
        TMPDIR: this.tmp,
        DEMO_LOG_DIR: join(this.tmp, 'logs'),
        NATS_URL: '',
        COOK_MS_PER_DISH: '50',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout!.on('data', (c: Buffer) => (this.out += c.toString()));
    this.child.stderr!.on('data', (c: Buffer) => (this.out += c.toString()));
    this.exited = new Promise((done) => this.child.once('exit', (code) => done(code)));
  }

  get output(): string {
    return this.out;
  }

  /** A signal to the whole process group, as a terminal's Ctrl-C or hang-up sends it. */
  signalGroup(signal: NodeJS.Signals): void {
    process.kill(-this.child.pid!, signal);
  }

  /** What each service logged, by label. */
  serviceLogs(): Map<string, Record<string, unknown>[]> {
    const dir = join(this.tmp, 'logs');
    return new Map(
      readdirSync(dir).map((file) => [
        file.replace(/\.log$/, ''),
        readFileSync(join(dir, file), 'utf8')
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      ]),
    );
  }

  /** The pids of the services it said it started. */
  get servicePids(): number[] {
    return [...this.out.matchAll(/, pid (\d+)\)/g)].map((m) => Number(m[1]));
  }

  /** Whatever is left after a failed test: the demo, its services, and its nats-server. */
  cleanup(): void {
    const pids = [-this.child.pid!, ...this.servicePids];
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    spawnSync('pkill', ['-KILL', '-f', this.tmp]); // the nats-server storing under this run's TMPDIR
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** The JetStream stores in `dir` (other tools keep caches in a TMPDIR too). */
function stores(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('brigade-nats-'));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run demo, stopped and failing as a person meets it @integration', function () {
  this.timeout(120_000);
  const runs: DemoRun[] = [];
  const demo = (args: readonly string[], env?: Record<string, string>, asWritten = false) => {
    const run = new DemoRun(args, env, asWritten);
    runs.push(run);
    return run;
  };
  afterEach(() => runs.splice(0).forEach((r) => r.cleanup()));

  it('prints its usage for an unknown flag and exits 2', async () => {
    const run = demo(['--frobnicate']);
    expect(await run.exited).to.equal(2);
    expect(run.output)
      .to.include("Unknown option '--frobnicate'")
      .and.include('usage: npm run demo');
  });

  const EXIT = { SIGINT: 130, SIGHUP: 129 } as const;
  for (const signal of ['SIGINT', 'SIGHUP'] as const) {
    it(`on ${signal} to its process group drains every service before the server stops, and removes the store`, async () => {
      const run = demo(['--keep', '--orders', '1']);
      await waitFor(() => run.output.includes('Ctrl-C stops everything'), {
        timeout: 90_000,
        message: 'the demo did not come up',
      }).catch((err: Error) => {
        throw new Error(`${err.message}; it printed:\n${run.output}`);
      });
      expect(run.output).to.include('NATS_URL=nats://127.0.0.1:').and.include('npx brigade ls');
      expect(run.output)
        .to.match(/reception's live page +http:\/\/127\.0\.0\.1:\d+\//)
        .and.match(/Brigade dashboard +http:\/\/127\.0\.0\.1:\d+\//);
      // The poison order went through its retries into the dead letters.
      expect(run.output).to.match(
        /dead letter \d+ after 3 attempts: NotFoundError: no recipe for 'sannakji' in kitchen-[12] \(on the dashboard\)/,
      );
      expect(stores(run.tmp)).to.have.length(1);
      const pids = run.servicePids;
      expect(pids).to.have.length(6);
      run.signalGroup(signal);
      expect(await run.exited, run.output).to.equal(EXIT[signal]);
      expect(run.output)
        .to.include(`${signal === 'SIGINT' ? 'Ctrl-C' : signal}: the demo was stopped`)
        .and.not.include('failed');
      for (const label of ['order', 'kitchen-1', 'kitchen-2', 'reception', 'audit', 'dashboard'])
        expect(run.output).to.include(`${label} exited with 0`);
      expect(run.output).to.include('stopped');
      // Each drained against a live server: it began its drain, and nothing ended under it (a
      // server stopped first makes the pulls and the drain warn). The one warning expected is
      // the kitchen's about the poison order it dead-lettered.
      const poison =
        /^dead-lettered message \d+ of 'ORDERS' to 'dlq\.ORDERS\.kitchen_cook'; more like it are summed up every 10 s$/;
      for (const [label, records] of run.serviceLogs()) {
        if (label === 'dashboard') continue; // no service: nothing to drain
        const troubles = records
          .filter((r) => Number(r['level']) >= 40)
          .map((r) => String(r['msg']))
          .filter((msg) => !(label.startsWith('kitchen') && poison.test(msg)));
        expect(troubles, label).to.deep.equal([]);
        expect(
          records.map((r) => r['msg']),
          label,
        ).to.include('stopping: no new messages, finishing in-flight ones');
      }
      expect(pids.filter(alive)).to.deep.equal([]);
      expect(stores(run.tmp)).to.deep.equal([]);
    });
  }

  for (const moment of ['while the services start', 'while the orders are placed'] as const) {
    it(`says it was stopped, not that it failed, on Ctrl-C ${moment}, and leaves nothing behind`, async () => {
      const run = demo(['--orders', '20']);
      // What an earlier run left in a log: each run's logs start empty.
      mkdirSync(join(run.tmp, 'logs'), { recursive: true });
      writeFileSync(join(run.tmp, 'logs', 'kitchen-1.log'), 'a line of an earlier run\n');
      await waitFor(
        () =>
          moment === 'while the services start'
            ? run.output.includes('started dashboard')
            : run.output.includes('HTTP POST /orders -> 202'),
        { timeout: 90_000, message: `the demo never got ${moment}` },
      );
      const pids = run.servicePids;
      run.signalGroup('SIGINT');
      expect(await run.exited, run.output).to.equal(130);
      expect(run.output)
        .to.include('Ctrl-C: the demo was stopped')
        .and.include('stopped')
        .and.not.include('failed');
      await waitFor(() => pids.filter(alive).length === 0, {
        message: 'a service outlived the demo',
      });
      expect(stores(run.tmp)).to.deep.equal([]);
      expect(readFileSync(join(run.tmp, 'logs', 'kitchen-1.log'), 'utf8')).to.not.include(
        'an earlier run',
      );
    });
  }

  it('runs as the README writes it, `npm run demo`, names its server, and prints the addresses to open only with --keep', async () => {
    const run = demo([], {}, true);
    expect(await run.exited, run.output).to.equal(0);
    expect(run.output).to.match(/nats-server 2\.\d+\.\d+ \(see README, Servers and features\)/);
    expect(run.output)
      .to.include('`-- --keep` keeps it up to watch')
      .and.not.include("reception's live page:")
      .and.not.include('Brigade dashboard:');
  });

  it('stops every service when its stdout closes', async () => {
    const run = demo(['--orders', '20']);
    await waitFor(() => run.output.includes('all services up'), { timeout: 90_000 });
    const pids = run.servicePids;
    run.child.stdout!.destroy();
    const code = await run.exited;
    expect(code, run.output).to.equal(0);
    await waitFor(() => pids.filter(alive).length === 0, {
      message: 'a service outlived the demo',
    });
    await waitFor(() => stores(run.tmp).length === 0, { message: 'the store was left behind' });
  });

  it('says at once why a service that exits during start-up failed', async () => {
    const run = demo(['--orders', '1'], { PORT: '99999' });
    const code = await run.exited;
    expect(code).to.equal(1);
    expect(run.output).to.match(
      /demo failed: reception exited with 1 while starting: .*(port|99999)/i,
    );
    expect(run.output).to.not.include('fetch failed');
    expect(stores(run.tmp)).to.deep.equal([]);
  });
});
