import { Match, type MsgHdrs } from 'nats';
import { outgoingHeaders, receivedBlockLength, receivedBytes } from './nats-internals';
import { headerBlockText, IRREGULAR, scanHeaderBlock } from './header-block';
import { encodeUtf8 } from './utf8-slab';
import type { HeaderInit, WireHeaders, WireMessage } from './wire-message';

const MALFORMED_HEADERS =
  'malformed headers: a header name holds a character NATS does not allow (space, colon, control or non-ASCII)';

/** `_msg.hdr` of a message without a header block: most events. */
const NO_BLOCK = -1;

const blockLengthOf = receivedBlockLength;

/** Whether `hdr` is the length of a header block at the start of the message's received bytes. */
function isReceivedBlock(msg: WireMessage, hdr: unknown): hdr is number {
  const bytes = receivedBytes(msg);
  return typeof hdr === 'number' && hdr >= 0 && bytes instanceof Uint8Array && hdr <= bytes.length;
}

const blockBytes = (msg: WireMessage): Uint8Array => receivedBytes(msg) as Uint8Array;

/**
 * Why a message's header block cannot be decoded, or `undefined` when it can (or there is none).
 * The `nats` client decodes headers on first read and throws on bytes it does not accept (a space,
 * colon, control or non-ASCII character in a name), although the server passes them on; a throw
 * inside its subscription callback would stop the connection reading. Every path that takes a
 * message asks this first. A block `scanHeaderBlock` reads as regular is one the client decodes;
 * any other is decoded by the client here, and once that succeeded its result is cached: every
 * later read of `headers` is safe either way.
 */
export function headerFault(msg: WireMessage): string | undefined {
  const hdr = blockLengthOf(msg);
  if (hdr === NO_BLOCK) return undefined;
  if (isReceivedBlock(msg, hdr) && scanHeaderBlock(blockBytes(msg), hdr) !== IRREGULAR) {
    return undefined;
  }
  return decodingFault(msg);
}

/** `headerFault` by the client's own decoding. */
function decodingFault(msg: WireMessage): string | undefined {
  try {
    void msg.headers;
    return undefined;
  } catch {
    return MALFORMED_HEADERS;
  }
}

/** The server's no-responders status: 503 with no body. */
export function isNoResponders(msg: WireMessage): boolean {
  return msg.data.length === 0 && headersOf(msg)?.code === 503;
}

/** The decoded headers; `undefined` when there are none or they cannot be decoded. */
export function headersOf(msg: WireMessage): WireHeaders | undefined {
  try {
    return msg.headers;
  } catch {
    return undefined;
  }
}

/**
 * Reads a header case-insensitively; `undefined` when absent, empty or unreadable. From the
 * received bytes when the block is regular (the first line naming it, as the client's decoding
 * would give it), else through the client's decoding.
 */
export function readHeader(msg: WireMessage, name: string): string | undefined {
  const hdr = blockLengthOf(msg);
  if (hdr === NO_BLOCK) return undefined;
  if (isReceivedBlock(msg, hdr)) {
    const found = scanHeaderBlock(blockBytes(msg), hdr, name.toLowerCase());
    if (found !== IRREGULAR) return found === '' ? undefined : found;
  }
  const value = headersOf(msg)?.get(name, Match.IgnoreCase);
  return value === undefined || value === '' ? undefined : value;
}

/** All headers as name -> values, names as sent. */
export function headerRecord(headers: WireHeaders | undefined): Record<string, string[]> {
  const record: Record<string, string[]> = {};
  if (headers) for (const [name, values] of headers) record[name] = [...values];
  return record;
}

/**
 * The headers to send for `init`, their block written once (`headerBlockText`) and encoded into
 * the shared slab; `undefined` when it has no value. Throws on a bad name or value.
 */
export function toMsgHdrs(init: HeaderInit | undefined): MsgHdrs | undefined {
  const block = init === undefined ? undefined : headerBlockText(init);
  return block === undefined ? undefined : outgoingHeaders(block, init as HeaderInit, encodeUtf8);
}
