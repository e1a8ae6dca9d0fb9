/**
 * npm run bench:charts [-- --in docs/charts/scaling.json]
 *
 * Draws the scaling study's JSON (`npm run bench:scaling`) as SVG charts in docs/charts/, with
 * Vega-Lite (compiled to Vega, rendered to SVG in Node, no browser).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';

const { values: args } = parseArgs({
  options: {
    in: { type: 'string', default: join(__dirname, '..', '..', 'docs', 'charts', 'scaling.json') },
  },
});

interface RatePoint {
  impl: string;
  x: number;
  perSecond: number;
  p99: number;
}
interface StartupPoint {
  handlers: number;
  startMs: number;
  sinceProcessMs: number;
  rssMb: number;
}
interface DiscoveryPoint {
  instances: number;
  pingMs: number;
  cliMs: number;
}
interface Study {
  machine: string;
  payload: RatePoint[];
  inFlight: RatePoint[];
  instances: RatePoint[];
  handlers: StartupPoint[];
  durables: StartupPoint[];
  discovery: DiscoveryPoint[];
}

const source = args.in as string;
const study = JSON.parse(readFileSync(source, 'utf8')) as Study;
const outDir = dirname(source);

/** The look every chart shares: readable type, a light grid, the machine as subtitle. */
const CONFIG = {
  font: 'sans-serif',
  axis: { labelFontSize: 12, titleFontSize: 13, gridColor: '#e5e5e5' },
  legend: { labelFontSize: 12, titleFontSize: 12, orient: 'bottom' },
  title: { fontSize: 15, subtitleFontSize: 11, subtitleColor: '#555', anchor: 'start' },
  view: { stroke: null },
} as const;

const COLORS = { domain: ['brigade', 'raw'], range: ['#1f6feb', '#8c8c8c'] };

async function draw(
  file: string,
  title: string,
  spec: Omit<TopLevelSpec, 'config'>,
): Promise<void> {
  const full = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, subtitle: study.machine },
    ...('hconcat' in spec ? {} : { width: 460, height: 260 }),
    background: 'white',
    config: CONFIG,
    ...spec,
  } as TopLevelSpec;
  const view = new View(parse(compile(full).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  writeFileSync(join(outDir, file), `${svg}\n`);
  console.log(`written: ${join(outDir, file)}`);
}

/** Throughput and p99 against `x`, one line per implementation, side by side. */
function rateCharts(
  points: RatePoint[],
  x: { title: string; log?: boolean; bytes?: boolean },
): Omit<TopLevelSpec, 'config'> {
  const xEncoding = {
    field: 'x',
    type: 'quantitative',
    title: x.title,
    scale: x.log ? { type: 'log', base: 2 } : { zero: false },
    axis: x.log
      ? {
          values: [...new Set(points.map((p) => p.x))],
          labelOverlap: false,
          labelAngle: -40,
          ...(x.bytes && {
            labelExpr: "datum.value >= 1024 ? datum.value / 1024 + ' KB' : datum.value + ' B'",
          }),
        }
      : { tickMinStep: 1 },
  };
  const line = (field: string, title: string) => ({
    width: 220,
    height: 220,
    mark: { type: 'line', point: true },
    encoding: {
      x: xEncoding,
      y: { field, type: 'quantitative', title, scale: { zero: true } },
      color: { field: 'impl', type: 'nominal', title: null, scale: COLORS },
    },
  });
  return {
    data: { values: points.map((p) => ({ ...p, p99ms: p.p99 / 1000 })) },
    hconcat: [line('perSecond', 'requests per second'), line('p99ms', 'p99 latency (ms)')],
  } as unknown as Omit<TopLevelSpec, 'config'>;
}

async function main(): Promise<void> {
  await draw(
    'payload.svg',
    'Request-reply against payload size (64 in flight)',
    rateCharts(study.payload, { title: 'JSON body', log: true, bytes: true }),
  );
  await draw(
    'in-flight.svg',
    'Request-reply against requests in flight (~100-byte JSON)',
    rateCharts(study.inFlight, { title: 'requests in flight', log: true }),
  );
  await draw(
    'instances.svg',
    'Instances sharing one queue group (Brigade, 256 in flight)',
    rateCharts(study.instances, { title: 'handler processes' }),
  );
  const startup = [
    ...study.handlers.map((p) => ({ ...p, what: 'endpoints' })),
    ...study.durables.map((p) => ({ ...p, what: 'durable handlers' })),
  ];
  const startupLine = (field: string, title: string) => ({
    width: 220,
    height: 220,
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'handlers',
        type: 'quantitative',
        title: 'handlers in the app',
        scale: { type: 'log' },
      },
      y: { field, type: 'quantitative', title, scale: { zero: true } },
      color: {
        field: 'what',
        type: 'nominal',
        title: null,
        scale: { range: ['#1f6feb', '#d97706'] },
      },
    },
  });
  await draw('handlers.svg', 'Start-up and idle memory against handlers per app', {
    data: { values: startup },
    hconcat: [startupLine('startMs', 'Brigade.start (ms)'), startupLine('rssMb', 'idle RSS (MB)')],
  } as unknown as Omit<TopLevelSpec, 'config'>);
  await draw('discovery.svg', 'Service API discovery against instances', {
    data: {
      values: study.discovery.flatMap((p) => [
        { instances: p.instances, ms: p.pingMs, what: 'PING, all answers in' },
        { instances: p.instances, ms: p.cliMs, what: 'brigade ls (whole process)' },
      ]),
    },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'instances', type: 'quantitative', title: 'instances of the service' },
      y: { field: 'ms', type: 'quantitative', title: 'milliseconds', scale: { zero: true } },
      color: {
        field: 'what',
        type: 'nominal',
        title: null,
        scale: { range: ['#1f6feb', '#d97706'] },
      },
    },
  } as unknown as Omit<TopLevelSpec, 'config'>);
}

main().catch((err: unknown) => {
  console.error((err as Error).stack ?? String(err));
  process.exit(1);
});
