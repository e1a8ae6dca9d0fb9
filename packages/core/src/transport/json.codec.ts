import { CodecError } from '../errors';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);

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
    return text === undefined ? EMPTY : encoder.encode(text);
  },

  /** Throws `CodecError` with the parser's reason on malformed UTF-8 or JSON. */
  decode(data: Uint8Array): unknown {
    if (data.length === 0) return undefined;
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
