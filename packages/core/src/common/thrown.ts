import { clip } from './clip';

/**
 * What was thrown, as one short line a log or a dead letter can carry: an Error's name and
 * message (`TypeError: x is not a function`); anything else rendered safely and clipped like other
 * client values (`{"code":7}`, `'text'`, `null`, `undefined`, `12n`), never `[object Object]`.
 */
export function describeThrown(value: unknown): string {
  if (value instanceof Error) {
    const message = clip(String(value.message));
    return message === '' ? String(value.name) : `${String(value.name)}: ${message}`;
  }
  switch (typeof value) {
    case 'string':
      return `'${clip(value)}'`;
    case 'bigint':
      return `${value}n`;
    case 'symbol':
    case 'function':
      return clip(String(value));
    case 'object':
      return value === null ? 'null' : clip(objectText(value));
    default:
      return String(value);
  }
}

/** JSON where it can be had (a circular, throwing or BigInt-holding object falls back to its kind). */
function objectText(value: object): string {
  try {
    const text = JSON.stringify(value, (_key, v: unknown) =>
      typeof v === 'bigint' ? `${v}n` : v,
    ) as string | undefined;
    if (text !== undefined) return text;
  } catch {
    // a cycle or a throwing toJSON: say what kind of object it was instead
  }
  try {
    return `[object ${String((value.constructor as { name?: unknown } | undefined)?.name ?? 'Object')}]`;
  } catch {
    return '[object]';
  }
}

/** A kind for grouping failures in a summary: an Error's name, else the thrown value's type. */
export function thrownKind(value: unknown): string {
  if (value instanceof Error) return String(value.name);
  return value === null ? 'null' : typeof value;
}

/**
 * Stands for `undefined` thrown or rejected with, where `undefined` already means "no failure":
 * described and grouped as `undefined`, as the value itself would be.
 */
export class ThrownUndefined extends Error {
  constructor() {
    super('');
    this.name = 'undefined';
  }
}
