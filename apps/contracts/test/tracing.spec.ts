import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Runs `startTracing` in a process of its own (it registers a global SDK) with `endpoint`, and
 * tells whether spans then get a real trace id, and what it wrote to stderr.
 */
function startedWith(endpoint: string): { tracing: boolean; stderr: string } {
  const script = `
    const { trace } = require('@opentelemetry/api');
    const { startTracing } = require(${JSON.stringify(join(__dirname, '..', 'dist', 'tracing.js'))});
    startTracing('probe').then(async (tracing) => {
      const id = trace.getTracer('probe').startSpan('probe').spanContext().traceId;
      process.stdout.write(JSON.stringify({ tracing: !/^0+$/.test(id) }));
      await tracing.stop();
    });`;
  const run = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: '' },
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { ...(JSON.parse(run.stdout) as { tracing: boolean }), stderr: run.stderr };
}

describe('the restaurant’s tracing', () => {
  it('traces when the collector’s host is there', () => {
    expect(startedWith('http://127.0.0.1:4318')).to.deep.equal({ tracing: true, stderr: '' });
  });

  it('says once that tracing is off when the collector’s host is not on the network (compose without the observability profile)', () => {
    const run = startedWith('http://jaeger.invalid:4318');
    expect(run.tracing).to.equal(false);
    expect(run.stderr).to.equal(
      "probe: tracing off: the trace collector's host 'jaeger.invalid' (http://jaeger.invalid:4318) is not on this network\n",
    );
  });
});
