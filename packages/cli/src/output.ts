/** Plain-text tables and value printing for the terminal. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** JSON bodies pretty-printed; anything else as text. */
export function formatBody(data: Uint8Array | unknown): string {
  if (data instanceof Uint8Array) {
    const text = new TextDecoder().decode(data);
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }
  return data === undefined ? '' : JSON.stringify(data, null, 2);
}

/** `1234567` ns as `1.23ms`. */
export function duration(nanos: number): string {
  if (nanos >= 1e9) return `${(nanos / 1e9).toFixed(2)}s`;
  if (nanos >= 1e6) return `${(nanos / 1e6).toFixed(2)}ms`;
  if (nanos >= 1e3) return `${(nanos / 1e3).toFixed(1)}µs`;
  return `${nanos}ns`;
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
