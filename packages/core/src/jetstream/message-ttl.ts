import { parseDuration, type Duration } from '../common/duration';
import { InvalidOptionError } from '../common/errors';

/** The header that gives a stored message its own TTL (ADR-43). */
export const TTL = 'Nats-TTL';

/** `Nats-TTL` for `ttl`: whole seconds (`90s`), or `never`. */
export function ttlHeader(ttl: Duration | 'never'): string {
  if (ttl === 'never') return 'never';
  const ms = parseDuration(ttl);
  if (typeof ms === 'string') throw new InvalidOptionError(`ttl: ${ms}, or 'never'`);
  if (ms < 1_000 || ms % 1_000 !== 0)
    throw new InvalidOptionError(
      `ttl must be whole seconds of at least 1 (the server counts a message's TTL in seconds), got ${String(ttl)}`,
    );
  return `${ms / 1_000}s`;
}
