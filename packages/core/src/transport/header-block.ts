/**
 * Header blocks as bytes: read from a received message without the `nats` client decoding them,
 * and written for a message Brigade sends without the client's header objects.
 *
 * The client decodes a block into a map of arrays on first read (most of what a request's header
 * costs its handler), and builds one the same way to send. Brigade
 * reads two or three known headers of a message and writes a record: both are a pass over a few
 * dozen bytes. What Brigade reads here is what the client's decoding would give, and a block
 * Brigade calls regular is one that decoding accepts, so that whoever reads the client's
 * `headers` later gets the same answers and no throw.
 */
import { InvalidOptionError } from '../common/errors';
import type { HeaderInit } from './wire-message';

const CR = 13;
const LF = 10;
const COLON = 58;
const UPPER_A = 65;
const UPPER_Z = 90;
const LOWER_CASE = 32;
/** A header name's bytes are printable ASCII: 33 to 126, the colon excepted (RFC 822 3.1.2). */
const NAME_FIRST = 33;
const NAME_LAST = 126;
const ASCII_LIMIT = 0x80;

/** A block this module does not read itself: a lone CR or LF, or a name byte the client refuses. */
export const IRREGULAR: unique symbol = Symbol('irregular header block');

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The first value of the header `lowerName` (lowercase; names are compared ignoring case), trimmed,
 * in the block's first `end` bytes; `undefined` when no line names it, or when no name is given.
 * `IRREGULAR` when the block holds a lone CR or LF, or a name byte outside printable ASCII: those
 * are for the client's own decoding to judge (so is a line without a colon that holds such a byte,
 * although the client skips it). Lines without a colon are skipped, as the client skips them; the
 * first line is the status line. One pass over the bytes.
 */
export function scanHeaderBlock(
  block: Uint8Array,
  end: number,
  lowerName?: string,
): string | undefined | typeof IRREGULAR {
  let i = 0;
  while (i < end && block[i] !== CR && block[i] !== LF) i++;
  let found: string | undefined;
  // At each turn `i` is at the CRLF that ends a line, or at the end.
  while (i < end) {
    if (block[i] !== CR || i + 1 >= end || block[i + 1] !== LF) return IRREGULAR;
    i += 2;
    // The name, up to the colon: checked, and compared with `lowerName` on the way.
    let same = found === undefined && lowerName !== undefined;
    let length = 0;
    for (; i < end; i++, length++) {
      let byte = block[i] as number;
      if (byte === COLON || byte === CR || byte === LF) break;
      if (byte < NAME_FIRST || byte > NAME_LAST) return IRREGULAR;
      if (same) {
        if (byte >= UPPER_A && byte <= UPPER_Z) byte += LOWER_CASE;
        same = byte === (lowerName as string).charCodeAt(length);
      }
    }
    if (i >= end || block[i] !== COLON) continue;
    const valueStart = i + 1;
    while (i < end && block[i] !== CR && block[i] !== LF) i++;
    if (same && length === (lowerName as string).length) {
      found = text(block, valueStart, i).trim();
    }
  }
  return found;
}

/** `block[from, to)` as text, as the client's decoder reads it (replacing bytes that are not UTF-8). */
function text(block: Uint8Array, from: number, to: number): string {
  let ascii = '';
  for (let i = from; i < to; i++) {
    const byte = block[i] as number;
    if (byte >= ASCII_LIMIT) return decoder.decode(block.subarray(from, to));
    ascii += String.fromCharCode(byte);
  }
  return ascii;
}

/**
 * The header block for `init`, as the client would write it from the same names and values (each
 * value trimmed, one line per value, names as given); `undefined` when `init` has no value.
 * Refuses a name that is empty or holds a byte outside printable ASCII or a colon, and a value
 * holding CR or LF: they would break the block or make it one the receiver refuses.
 */
export function headerBlockText(init: HeaderInit): string | undefined {
  let block: string | undefined;
  for (const name in init) {
    const value = init[name];
    if (value === undefined) continue;
    checkName(name);
    block ??= 'NATS/1.0';
    if (Array.isArray(value)) for (const v of value as readonly unknown[]) block += line(name, v);
    else block += line(name, value);
  }
  return block === undefined ? undefined : `${block}\r\n\r\n`;
}

function checkName(name: string): void {
  if (name.length === 0) throw new InvalidOptionError('a header name cannot be empty');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < NAME_FIRST || c > NAME_LAST || c === COLON) {
      throw new InvalidOptionError(
        `header name '${name}' holds ${JSON.stringify(name[i])}: a header name is printable ASCII without spaces or colons`,
      );
    }
  }
}

/** The line for one value of header `name`: the value trimmed, as the client sends it. */
function line(name: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new InvalidOptionError(
      `header '${name}' must be a string or an array of strings, got ${value === null ? 'null' : typeof value}`,
    );
  }
  if (value.includes('\r') || value.includes('\n')) {
    throw new InvalidOptionError(`header '${name}' holds a line break, which a header cannot`);
  }
  return `\r\n${name}: ${value.trim()}`;
}
