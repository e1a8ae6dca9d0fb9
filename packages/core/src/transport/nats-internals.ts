/**
 * Every read or patch of the `nats` client's private internals, in one place. Brigade's fast
 * paths (its own frame reader, protocol lines and header blocks) take the place of pieces of the
 * client that are not part of its documented interface: the protocol handler's `parser` and
 * `sendCommand`, a received message's `_msg.hdr` and `_rdata`, and what `publish` reads of a
 * `MsgHdrsImpl`. Each is checked for its shape before use; a client without it keeps its own way
 * and only speed is lost. `nats` is pinned to the version the differential specs ran against
 * (`TESTED_NATS_VERSION`).
 *
 * `BRIGADE_NATS_FAST_PATH=off` in the environment leaves the client alone: its own parser,
 * encoding and headers do everything. CI runs the message-path specs once more that way, to prove
 * the plain path works.
 */
import { headers as clientHeaders, MsgHdrsImpl, type MsgHdrs } from 'nats';
import type { HeaderInit, WireMessage } from './wire-message';

/** The environment variable that turns the fast paths off (`off`). */
export const FAST_PATH_SWITCH = 'BRIGADE_NATS_FAST_PATH';

/** False when `BRIGADE_NATS_FAST_PATH=off`: then nothing here touches the client. */
export const fastPathsOn = process.env[FAST_PATH_SWITCH] !== 'off';

/** The message arguments the client's parser hands its protocol handler. */
export interface MsgArg {
  sid: number;
  hdr: number;
  size: number;
  subject: Uint8Array;
  reply: Uint8Array | undefined;
}

/** The client's protocol parser: a state machine fed the bytes the socket gives. */
export interface ClientParser {
  state: number;
  parse(chunk: Uint8Array): void;
}

/** The client's protocol handler, as far as the frame reader deals with it. */
export interface ProtocolHandler {
  processMsg(msg: MsgArg, data: Uint8Array): void;
}

/** What stands in for the client's parser: fed the bytes, told of each parser the client makes. */
export interface ParserStandIn {
  parse(chunk: Uint8Array): void;
  reset(parser: ClientParser): void;
}

interface ClientProtocol extends ProtocolHandler {
  parser: ClientParser;
  sendCommand(cmd: string | Uint8Array, ...payloads: Uint8Array[]): void;
}

function protocolOf(connection: object): Partial<ClientProtocol> | undefined {
  if (!fastPathsOn) return undefined;
  return (connection as { protocol?: Partial<ClientProtocol> }).protocol;
}

/**
 * Puts `standIn(handler, parser, idleState)` in the place of `connection`'s protocol parser, for
 * this connection and every reconnect (the client makes a new parser each time, and the stand-in
 * is told through `reset`). `idleState` is the state of a parser with nothing pending. False, and
 * nothing changed, when the client has no such parser.
 */
export function replaceParser(
  connection: object,
  standIn: (handler: ProtocolHandler, parser: ClientParser, idleState: number) => ParserStandIn,
): boolean {
  const protocol = protocolOf(connection);
  const parser = protocol?.parser;
  if (
    typeof protocol?.processMsg !== 'function' ||
    typeof parser?.parse !== 'function' ||
    typeof parser.state !== 'number' ||
    typeof parser.constructor !== 'function'
  )
    return false;
  const handler = protocol as ClientProtocol;
  const Parser = parser.constructor as new (dispatcher: ProtocolHandler) => ClientParser;
  const reader = standIn(handler, parser, new Parser(handler).state);
  Object.defineProperty(handler, 'parser', {
    configurable: true,
    enumerable: true,
    get: () => reader,
    set: (next: ClientParser) => reader.reset(next),
  });
  return true;
}

/**
 * Has `connection`'s protocol lines (built as strings) encoded by `encode` before the client
 * writes them. False, and nothing changed, when the client has no `sendCommand`.
 */
export function encodeCommandsWith(
  connection: object,
  encode: (line: string) => Uint8Array,
): boolean {
  const protocol = protocolOf(connection);
  if (typeof protocol?.sendCommand !== 'function') return false;
  const send = protocol.sendCommand;
  protocol.sendCommand = function (this: unknown, cmd, ...payloads) {
    send.call(this, typeof cmd === 'string' ? encode(cmd) : cmd, ...payloads);
  } satisfies ClientProtocol['sendCommand'];
  return true;
}

/**
 * Where a message the client parsed keeps what it received: the length of the header block
 * (`_msg.hdr`, -1 for none) at the start of the received bytes (`_rdata`). A message without
 * them (another version of the client, a JetStream message), or any message with the fast paths
 * off, has `undefined` here and is read through its decoded `headers`.
 */
interface ParsedMessage {
  readonly _msg?: { readonly hdr?: unknown };
  readonly _rdata?: unknown;
}

/** `_msg.hdr` of a received message, if the client keeps it. */
export const receivedBlockLength: (msg: WireMessage) => unknown = fastPathsOn
  ? (msg) => (msg as ParsedMessage)._msg?.hdr
  : () => undefined;

/** `_rdata` of a received message: the bytes the header block starts. */
export function receivedBytes(msg: WireMessage): unknown {
  return (msg as ParsedMessage)._rdata;
}

/**
 * Headers for the client's `publish` from a block Brigade wrote (`block`, for `init`): with the
 * fast paths on, an object whose `encode` (all `publish` reads of it) gives `encode(block)`; with
 * them off, the client's own headers, built from `init`.
 */
export function outgoingHeaders(
  block: string,
  init: HeaderInit,
  encode: (text: string) => Uint8Array,
): MsgHdrs {
  if (fastPathsOn) return new PresetHeaders(block, encode);
  const hdrs = clientHeaders();
  for (const [name, value] of Object.entries(init)) {
    if (value === undefined) continue;
    for (const v of typeof value === 'string' ? [value] : value) hdrs.append(name, v);
  }
  return hdrs;
}

class PresetHeaders extends MsgHdrsImpl {
  constructor(
    private readonly block: string,
    private readonly encodeBlock: (text: string) => Uint8Array,
  ) {
    super();
  }

  override encode(): Uint8Array {
    return this.encodeBlock(this.block);
  }
}
