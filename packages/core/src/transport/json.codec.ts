import { CodecError } from '../common/errors';
import { encodeUtf8 } from './utf8-slab';

const decoder = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);

/**
 * JSON nested deeper than this is refused on decode: `JSON.parse` takes any depth, but
 * `JSON.stringify`, loggers and handlers recurse through what it returns and would overflow the
 * stack on what a client sent.
 */
export const MAX_JSON_DEPTH = 128;
/** A shorter body cannot nest deeper than `MAX_JSON_DEPTH`, so it needs no scan. */
const DEPTH_SCAN_FROM = 2 * MAX_JSON_DEPTH + 1;

/** JSON body codec shared by every handler and client: an empty body is `undefined` both ways. */
export const jsonCodec = {
  encode(value: unknown): Uint8Array {
    if (value === undefined) return EMPTY;
    if (value instanceof Uint8Array) return value;
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (cause) {
      throw new CodecError(`cannot encode the value as JSON: ${(cause as Error).message}`, {
        cause,
      });
    }
    return text === undefined ? EMPTY : encodeUtf8(text);
  },

  /** Throws `CodecError` with the parser's reason on malformed UTF-8 or JSON, or on JSON too deep. */
  decode(data: Uint8Array): unknown {
    if (data.length === 0) return undefined;
    if (
      data.length >= DEPTH_SCAN_FROM &&
      opensMoreThan(data, MAX_JSON_DEPTH) &&
      nestsDeeperThan(data, MAX_JSON_DEPTH)
    ) {
      throw new CodecError(`the body is JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    }
    try {
      return JSON.parse(decoder.decode(data)) as unknown;
    } catch (cause) {
      throw new CodecError(`the body is not valid JSON: ${(cause as Error).message}`, { cause });
    }
  },

  text(data: Uint8Array): string {
    return decoder.decode(data);
  },
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * True when the text has more than `max` opening brackets: only then can it nest deeper than
 * `max`. Counted with memchr, so that a large body with few arrays and objects (most bodies)
 * skips the byte-by-byte scan in JavaScript.
 */
function opensMoreThan(data: Uint8Array, max: number): boolean {
  let count = 0;
  for (const open of [OPEN_ARRAY, OPEN_OBJECT]) {
    for (let i = find(data, open, 0); i !== -1; i = find(data, open, i + 1))
      if (++count > max) return true;
  }
  return false;
}

/**
 * The index of `byte` in `data` from `from`, or -1: Node's `Buffer#indexOf` (memchr), which
 * takes any Uint8Array; the typed array's own `indexOf` is a byte loop some 40 times slower.
 */
const bufferIndexOf = Buffer.prototype.indexOf as (value: number, byteOffset: number) => number;
function find(data: Uint8Array, byte: number, from: number): number {
  return bufferIndexOf.call(data, byte, from);
}

/** True when the UTF-8 JSON text opens more than `max` arrays or objects inside each other. */
function nestsDeeperThan(data: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/**
 * Parses a JSON body the way Brigade parses every message: an empty body is `undefined`; invalid
 * UTF-8 or JSON, or JSON nested deeper than `MAX_JSON_DEPTH`, throws `CodecError` (a 400 when it
 * reaches a caller). For gateways that take JSON from elsewhere, such as an HTTP server.
 */
export function decodeJson(data: Uint8Array): unknown {
  return jsonCodec.decode(data);
}
