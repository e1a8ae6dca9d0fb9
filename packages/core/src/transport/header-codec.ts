import { Match, MsgHdrsImpl, type MsgHdrs } from 'nats';
import { encodeUtf8 } from './utf8-slab';
import type { HeaderInit, WireHeaders, WireMessage } from './wire-message';

const MALFORMED_HEADERS =
  'malformed headers: a header name holds a character NATS does not allow (space, colon, control or non-ASCII)';

/**
 * Why a message's header block cannot be decoded, or `undefined` when it can (or there is none).
 * The `nats` client decodes headers on first read and throws on bytes it does not accept (a space,
 * colon, control or non-ASCII character in a name), although the server passes them on; a throw
 * inside its subscription callback would stop the connection reading. Every path that takes a
 * message asks this first: once it answered `undefined`, the decoded headers are cached and every
 * later read is safe.
 */
export function headerFault(msg: WireMessage): string | undefined {
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

/** Reads a header case-insensitively; `undefined` when absent, empty or unreadable. */
export function readHeader(msg: WireMessage, name: string): string | undefined {
  const value = headersOf(msg)?.get(name, Match.IgnoreCase);
  return value === undefined || value === '' ? undefined : value;
}

/** All headers as name -> values, names as sent. */
export function headerRecord(headers: WireHeaders | undefined): Record<string, string[]> {
  const record: Record<string, string[]> = {};
  if (headers) for (const [name, values] of headers) record[name] = [...values];
  return record;
}

/** Headers Brigade sends: the client's own, their block encoded into the shared slab. */
class OutgoingHeaders extends MsgHdrsImpl {
  override encode(): Uint8Array {
    return encodeUtf8(this.toString());
  }
}

export function toMsgHdrs(init: HeaderInit | undefined): MsgHdrs | undefined {
  if (init === undefined) return undefined;
  let hdrs: MsgHdrs | undefined;
  for (const name in init) {
    const value = init[name];
    if (value === undefined) continue;
    hdrs ??= new OutgoingHeaders();
    if (typeof value === 'string') hdrs.set(name, value);
    else for (const v of value) hdrs.append(name, v);
  }
  return hdrs;
}
