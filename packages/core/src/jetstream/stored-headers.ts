import type { MsgHdrs, StoredMsg } from 'nats';

/** A stored message's headers; `undefined` when they cannot be decoded (see `headerFault`). */
export function storedHeaders(stored: StoredMsg): MsgHdrs | undefined {
  try {
    return stored.header;
  } catch {
    return undefined;
  }
}
