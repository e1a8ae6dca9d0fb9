import pino from 'pino';
import { InvalidOptionError } from './errors';
import { prettyDestination, type LogFormat } from './log-format';

/** The structured logger Brigade writes to and hands to handlers (a pino logger). */
export type Logger = pino.Logger;

export interface LoggerSettings {
  /** pino level; default `$BRIGADE_LOG_LEVEL`, else `info`. `silent` turns logging off. */
  level?: string;
  /**
   * `json` (one object per line, for log collectors) or `pretty` (for a person); default
   * `$BRIGADE_LOG_FORMAT`, else `pretty` when stdout is a terminal and `json` when it is not.
   */
  format?: LogFormat;
  /** A logger of your own; takes precedence over `level` and `format`. */
  instance?: Logger;
}

const FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/** The levels a logger takes, quietest last. */
const LEVELS = [...Object.keys(pino.levels.values), 'silent'];

/**
 * The logger of `settings`: its instance, else a pino logger at its level, else at
 * `$BRIGADE_LOG_LEVEL`, else at `fallback`. A level pino does not know is refused, naming where
 * it came from and the levels there are.
 */
export function createLogger(
  settings: LoggerSettings | undefined,
  name: string,
  fallback = 'info',
): Logger {
  if (settings?.instance) return settings.instance;
  const level = chosen(settings?.level, 'logger.level', 'BRIGADE_LOG_LEVEL', LEVELS) ?? fallback;
  const tty = process.stdout.isTTY === true ? 'pretty' : 'json';
  const format = chosen(settings?.format, 'logger.format', 'BRIGADE_LOG_FORMAT', FORMATS) ?? tty;
  const options = { name, level, base: { pid: process.pid } };
  return format === 'pretty' ? pino(options, prettyDestination(process.stdout)) : pino(options);
}

/**
 * The setting given in code, else in the environment, else undefined; a value not among `allowed`
 * is refused, naming where it came from and what it may be.
 */
function chosen<T extends string>(
  given: T | undefined,
  option: string,
  variable: string,
  allowed: readonly T[],
): T | undefined {
  const fromEnvironment = given === undefined;
  const value = given ?? (process.env[variable] || undefined);
  if (value === undefined || allowed.includes(value as T)) return value as T | undefined;
  const source = fromEnvironment ? variable : option;
  throw new InvalidOptionError(`${source} is '${value}': use one of ${allowed.join(', ')}`);
}
