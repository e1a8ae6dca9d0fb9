import pino from 'pino';
import { InvalidOptionError } from './errors';

/** The structured logger Brigade writes to and hands to handlers (a pino logger). */
export type Logger = pino.Logger;

export interface LoggerSettings {
  /** pino level; default `$BRIGADE_LOG_LEVEL`, else `info`. `silent` turns logging off. */
  level?: string;
  /** A logger of your own; takes precedence over `level`. */
  instance?: Logger;
}

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
  const fromEnvironment = settings?.level === undefined;
  const level = settings?.level ?? process.env['BRIGADE_LOG_LEVEL'] ?? fallback;
  if (!LEVELS.includes(level)) {
    const source = fromEnvironment ? 'BRIGADE_LOG_LEVEL' : 'logger.level';
    throw new InvalidOptionError(`${source} is '${level}': use one of ${LEVELS.join(', ')}`);
  }
  return pino({ name, level, base: { pid: process.pid } });
}
