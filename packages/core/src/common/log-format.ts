/** How log lines are written: one JSON object per line, or a line a person reads. */
export type LogFormat = 'json' | 'pretty';

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const LEVEL_COLOURS: Record<number, string> = {
  10: '90',
  20: '36',
  30: '32',
  40: '33',
  50: '31',
  60: '35',
};
/** What every line carries and the pretty form shows in its own place, or not at all. */
const SHOWN_APART = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'err', 'service']);

/**
 * One pino JSON line as a person reads it: `12:04:05.123 WARN  order: message  key=value ...`,
 * an error's stack on the lines below. Coloured when `colour`.
 */
export function prettyLine(line: string, colour: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = Number(record['level']);
  const time = new Date(Number(record['time'])).toISOString().slice(11, 23);
  const name = LEVEL_NAMES[level] ?? String(level);
  const shownLevel = colour
    ? `\u001b[${LEVEL_COLOURS[level] ?? '0'}m${name.padEnd(5)}\u001b[0m`
    : name.padEnd(5);
  const source = record['service'] ?? record['name'];
  const fields = Object.entries(record)
    .filter(([key]) => !SHOWN_APART.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const err = record['err'] as { message?: string; stack?: string; type?: string } | undefined;
  const head = [time, shownLevel, source ? `${String(source)}:` : '', String(record['msg'] ?? '')]
    .filter(Boolean)
    .join(' ');
  const tail = fields.length > 0 ? `  ${fields.join(' ')}` : '';
  const trace = err
    ? `\n    ${(err.stack ?? `${err.type ?? 'Error'}: ${err.message ?? ''}`).split('\n').join('\n    ')}`
    : '';
  return `${head}${tail}${trace}\n`;
}

/** A pino destination that writes pretty lines to `out`, synchronously like pino's own. */
export function prettyDestination(out: NodeJS.WriteStream): { write(line: string): void } {
  const colour = out.isTTY === true && process.env['NO_COLOR'] === undefined;
  return {
    write(chunk: string): void {
      for (const line of chunk.split('\n'))
        if (line.length > 0) out.write(prettyLine(line, colour));
    },
  };
}
