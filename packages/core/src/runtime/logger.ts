import pino from 'pino';

/** The structured logger Brigade writes to and hands to handlers (a pino logger). */
export type Logger = pino.Logger;

export interface LoggerSettings {
  /** pino level; default `$BRIGADE_LOG_LEVEL`, else `info`. `silent` turns logging off. */
  level?: string;
  /** A logger of your own; takes precedence over `level`. */
  instance?: Logger;
}

export function createLogger(settings: LoggerSettings | undefined, name: string): Logger {
  if (settings?.instance) return settings.instance;
  return pino({
    name,
    level: settings?.level ?? process.env['BRIGADE_LOG_LEVEL'] ?? 'info',
    base: { pid: process.pid },
  });
}
