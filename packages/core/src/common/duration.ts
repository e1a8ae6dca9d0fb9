/** The longest a Node timer waits, in ms (about 24.8 days): a longer delay would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A span of time: milliseconds as a number, or a string such as `500ms`, `30s`, `5m`, `2h`, `7d`. */
export type Duration = number | string;

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** Milliseconds of a duration, or a reason it is not one. */
export function parseDuration(value: unknown): number | string {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0
      ? value
      : 'a duration in ms must be a finite number of at least 0';
  }
  const match = typeof value === 'string' ? PATTERN.exec(value.trim()) : null;
  if (!match) return "a duration is milliseconds or a string like '500ms', '30s', '5m', '2h', '7d'";
  return Math.round(Number(match[1]) * (UNITS[match[2] as string] as number));
}
