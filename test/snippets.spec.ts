import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { expect } from 'chai';
import { connect } from 'nats';
import ts from 'typescript';
import { NatsServer, waitFor } from '@brigade/testing';
import { blocksOf, type CodeBlock, documents } from './support/markdown';
import { sh } from './support/registry';

const ROOT = resolve(__dirname, '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const MOCHA = join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');

/** A TypeScript block as a file of its document's project. */
interface Snippet {
  readonly block: CodeBlock;
  /** Its path in the project: the one its first line names (`// src/main.ts`), else its own. */
  readonly file: string;
  /** What its marker asks: compile it (none), run it, start it as a service, run it as a spec. */
  readonly kind: 'module' | 'program' | 'service' | 'spec' | 'fragment';
  /** For a service: the name it answers the Service API's PING with. */
  readonly service?: string;
}

const KINDS = new Set(['program', 'service', 'spec', 'fragment']);

function snippetsOf(doc: string): Snippet[] {
  return blocksOf(ROOT, doc)
    .filter((block) => block.lang === 'ts')
    .map((block, n) => {
      const named = /^\/\/ ((?:src|test)\/[\w./-]+\.ts)\b/.exec(block.text)?.[1];
      const [kind = 'module', service] = block.marker;
      if (kind !== 'module' && !KINDS.has(kind))
        throw new Error(`${doc}:${block.line}: unknown snippet marker '${kind}'`);
      return {
        block,
        file: named ?? `src/snippet-${n + 1}.ts`,
        kind: kind as Snippet['kind'],
        service,
      };
    });
}

/** The README's tsconfig.json, exactly as a reader copies it. */
function readmeTsconfig(): Record<string, unknown> {
  const block = blocksOf(ROOT, 'README.md').find(
    (b) => b.lang === 'json' && b.before.includes('A complete `tsconfig.json`'),
  );
  if (!block)
    throw new Error('README.md has no tsconfig.json block after "A complete `tsconfig.json`"');
  return JSON.parse(block.text) as Record<string, unknown>;
}

/** Where a compiler message about `file` points in the document: `docs/x.md:41`. */
function located(doc: string, snippets: readonly Snippet[], output: string): string {
  return output.replace(/^([\w./-]+\.ts)\((\d+),(\d+)\)/gm, (whole, file: string, row: string) => {
    const snippet = snippets.find((s) => s.file === file);
    return snippet ? `${doc}:${snippet.block.line + Number(row)} (${file})` : whole;
  });
}

/** Runs `node dist/...` of a program or service, NATS_URL set; resolves with its exit code. */
function start(project: string, snippet: Snippet, url: string) {
  const script = join('dist', snippet.file.replace(/^src\//, '').replace(/\.ts$/, '.js'));
  const child = spawn(process.execPath, [script], {
    cwd: project,
    env: { ...process.env, NATS_URL: url, BRIGADE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, exited, output: () => output };
}

async function exitsWithin<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

describe('the TypeScript in README.md and docs/, compiled and run as a reader would @integration', function () {
  this.timeout(120_000);
  let server: NatsServer;
  before(async () => {
    server = await NatsServer.start({ jetstream: true });
  });
  after(() => server.stop());

  for (const doc of documents(ROOT)) {
    const snippets = snippetsOf(doc);
    if (snippets.length === 0) continue;
    const project = join(ROOT, '.demo', 'snippets', doc.replace(/\.md$/, '').replace(/\//g, '-'));
    const whole = snippets.filter((s) => s.kind !== 'fragment');

    describe(doc, () => {
      before(() => {
        rmSync(project, { recursive: true, force: true });
        for (const s of whole) {
          mkdirSync(dirname(join(project, s.file)), { recursive: true });
          writeFileSync(join(project, s.file), s.block.text);
        }
        const tsconfig = readmeTsconfig();
        writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
        // The specs, as ts-node compiles them: the same options, the specs beside the sources.
        const options = tsconfig['compilerOptions'] as Record<string, unknown>;
        writeFileSync(
          join(project, 'tsconfig.specs.json'),
          JSON.stringify({
            compilerOptions: { ...options, rootDir: '.', noEmit: true },
            include: ['src', 'test'],
          }),
        );
      });

      it(`compiles its ${whole.length} whole block(s) with the README's tsconfig (CommonJS) against the built packages`, async () => {
        for (const [config, needed] of [
          ['tsconfig.json', whole.some((s) => s.file.startsWith('src/'))],
          ['tsconfig.specs.json', whole.some((s) => s.file.startsWith('test/'))],
        ] as const) {
          if (!needed) continue;
          try {
            await sh(process.execPath, [TSC, '-p', config], project);
          } catch (err) {
            expect.fail(located(doc, snippets, (err as Error).message));
          }
        }
      });

      const fragments = snippets.filter((s) => s.kind === 'fragment');
      if (fragments.length > 0)
        it(`parses its ${fragments.length} fragment(s), marked as such`, () => {
          for (const { block } of fragments) {
            const { diagnostics = [] } = ts.transpileModule(block.text, {
              reportDiagnostics: true,
              compilerOptions: { experimentalDecorators: true },
            });
            const messages = diagnostics.map((d) =>
              ts.flattenDiagnosticMessageText(d.messageText, '\n'),
            );
            expect(messages, `${doc}:${block.line}`).to.deep.equal([]);
          }
        });

      for (const snippet of whole.filter((s) => s.kind === 'program'))
        it(`runs ${snippet.file} (line ${snippet.block.line}) to a clean exit against a real nats-server`, async () => {
          const run = start(project, snippet, server.url);
          const code = await exitsWithin(run.exited, 30_000, snippet.file);
          expect(code, run.output()).to.equal(0);
        });

      for (const snippet of whole.filter((s) => s.kind === 'service'))
        it(`starts ${snippet.file} (line ${snippet.block.line}): it answers as '${snippet.service}' on the bus, and stops cleanly on SIGTERM`, async () => {
          const run = start(project, snippet, server.url);
          const nc = await connect({ servers: server.url });
          try {
            const answered = waitFor(
              () =>
                nc
                  .request(`$SRV.PING.${snippet.service}`, undefined, { timeout: 500 })
                  .then(() => true)
                  .catch(() => false),
              { timeout: 30_000, message: () => `no PING answer; its output:\n${run.output()}` },
            );
            const died = run.exited.then((code) => {
              throw new Error(`it exited (${code}) before answering; its output:\n${run.output()}`);
            });
            await Promise.race([answered, died]);
          } finally {
            await nc.close();
          }
          run.child.kill('SIGTERM');
          expect(await exitsWithin(run.exited, 15_000, snippet.file), run.output()).to.equal(0);
        });

      for (const snippet of whole.filter((s) => s.kind === 'spec'))
        it(`runs ${snippet.file} (line ${snippet.block.line}) with mocha and ts-node, as the README says, and it passes`, async () => {
          // --no-config: this repository's .mocharc.json, above the project, is not the reader's.
          const { stdout } = await promisify(execFile)(
            process.execPath,
            [MOCHA, '--no-config', '--no-package', '-r', 'ts-node/register', snippet.file],
            { cwd: project, env: { ...process.env, TS_NODE_PROJECT: 'tsconfig.specs.json' } },
          ).catch((err: Error & { stdout?: string }) =>
            expect.fail(located(doc, snippets, `${err.message}\n${err.stdout ?? ''}`)),
          );
          expect(stdout)
            .to.match(/\d+ passing/)
            .and.not.match(/failing/);
        });
    });
  }
});
