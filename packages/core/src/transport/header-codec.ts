import { headers as createHeaders, Match, type MsgHdrs } from 'nats';
import type { HeaderInit, WireHeaders, WireMessage } from './wire-message';

/** Reads a header case-insensitively; `undefined` when absent or empty. */
export function readHeader(msg: WireMessage, name: string): string | undefined {
  const value = msg.headers?.get(name, Match.IgnoreCase);
  return value === undefined || value === '' ? undefined : value;
}

/** All headers as name -> values, names as sent. */
export function headerRecord(headers: WireHeaders | undefined): Record<string, string[]> {
  const record: Record<string, string[]> = {};
  if (headers) for (const [name, values] of headers) record[name] = [...values];
  return record;
}

export function toMsgHdrs(init: HeaderInit | undefined): MsgHdrs | undefined {
  if (init === undefined) return undefined;
  let hdrs: MsgHdrs | undefined;
  for (const name in init) {
    const value = init[name];
    if (value === undefined) continue;
    hdrs ??= createHeaders();
    if (typeof value === 'string') hdrs.set(name, value);
    else for (const v of value) hdrs.append(name, v);
  }
  return hdrs;
}
