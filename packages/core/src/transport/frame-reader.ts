/**
 * Reading the server's MSG and HMSG frames for the `nats` client, in place of its protocol parser.
 *
 * The client's parser is a port of the Go client's state machine: a `switch` on its state for
 * every byte of every frame, control lines cut into arrays of views, each view a `Buffer`: the
 * `switch` per byte and the `Buffer` per view are what this reader avoids (docs/performance.md
 * has the measurements). It reads the frames nats-server writes, `MSG` and `HMSG` lines in their one regular form, in a
 * single pass over the control line, and hands the client's protocol handler the same message
 * arguments and bytes its own parser would (plain views rather than `Buffer`s, as the client's
 * are for a frame split across reads; a subject repeated from the last message shares its
 * array), so every message, subscription and header downstream is the client's own.
 *
 * Everything else goes to the client's parser: PING, PONG, +OK, -ERR and INFO lines, one line at a
 * time, and any frame not in the regular form (lowercase, tabs, doubled spaces, a line or payload
 * not ended by CRLF, sizes out of range), from its first byte on. The client's parser judges those
 * as it would have; it keeps the stream until a line end where it has nothing pending. So the
 * messages dispatched and the errors thrown are the client's for every byte stream;
 * `frame-reader.spec.ts` holds the two to each other on random streams cut at random places.
 *
 * The parser is a field of the client's protocol handler rather than part of its documented
 * interface: `nats-internals.ts` puts the reader in its place, or leaves a client without it alone.
 */
import {
  type ClientParser,
  type MsgArg,
  type ParserStandIn,
  type ProtocolHandler,
  replaceParser,
} from './nats-internals';

const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const UPPER_H = 72;
const UPPER_M = 77;
const UPPER_S = 83;
const UPPER_G = 71;

/** `control`'s answers that are not a frame's length. */
const NEED_MORE = -1;
const OTHER = -2;
/** Sizes past this are left to the client (nats-server's own limit on max_payload is 64 MiB). */
const MAX_SIZE = 64 * 1024 * 1024;
/** Digits of a number in the regular form: the sid as the client computes it, exactly. */
const MAX_DIGITS = 15;
/** Tokens after the op: MSG has 3 (subject sid size) or 4 (with reply), HMSG one more. */
const MAX_TOKENS = 5;

class FrameReader implements ParserStandIn {
  /** The state of a client parser with nothing pending. */
  private readonly start: number;
  /** Set while the client's parser holds part of an op: it has the bytes until it holds none. */
  private delegated: boolean;
  /** The start of a frame the last chunk ended in; `need` is its whole length once known, else 0. */
  private tail: Uint8Array | undefined;
  private filled = 0;
  private need = 0;
  // The control line `control` read last: token bounds, and what they say.
  private readonly bounds = new Int32Array(MAX_TOKENS * 2);
  private replied = false;
  private lineEnd = 0;
  private sid = 0;
  private hdr = -1;
  private size = 0;
  /** The subject of the last message, a copy: the next message on the same subject shares it. */
  private subject = new Uint8Array(0);

  constructor(
    private readonly protocol: ProtocolHandler,
    private inner: ClientParser,
    /** The state of the client's parser with nothing pending. */
    idleState: number,
  ) {
    this.start = idleState;
    this.delegated = inner.state !== this.start;
  }

  /** The client made a new parser (it does on every reconnect): whatever was pending is gone. */
  reset(inner: ClientParser): void {
    this.inner = inner;
    this.delegated = inner.state !== this.start;
    this.tail = undefined;
  }

  parse(chunk: Uint8Array): void {
    let at = 0;
    if (this.delegated) {
      // The client's parser holds part of an op: it takes the bytes up to the next line end, and
      // the whole chunk if it still holds one then.
      const lf = chunk.indexOf(LF);
      if (lf < 0) return this.handOver(chunk, 0);
      if (!this.give(chunk.subarray(0, lf + 1))) return this.handOver(chunk, lf + 1);
      this.delegated = false;
      at = lf + 1;
    } else if (this.tail !== undefined) {
      at = this.continueTail(chunk);
      if (this.delegated) return this.handOver(chunk, at);
    }
    this.read(chunk, at);
  }

  /** Dispatches the ops of `buf` from `at` on, keeping an incomplete last frame for the next chunk. */
  private read(buf: Uint8Array, at: number): void {
    const end = buf.length;
    while (at < end) {
      const length = this.control(buf, at, end);
      if (length === NEED_MORE) return this.keep(buf, at, end, 0);
      if (length === OTHER) {
        // Not a regular frame: its line goes to the client's parser, and the rest of the chunk
        // with it unless that leaves the parser with nothing pending.
        const lf = buf.indexOf(LF, at);
        if (lf < 0) return this.handOver(buf, at);
        if (!this.give(buf.subarray(at, lf + 1))) return this.handOver(buf, lf + 1);
        at = lf + 1;
        continue;
      }
      if (at + length > end) return this.keep(buf, at, end, length);
      if (!this.dispatch(buf, at, length)) return this.handOver(buf, at);
      at += length;
    }
  }

  /**
   * Reads the control line at `at` if it is a MSG or HMSG line in the regular form: the frame's
   * whole length (line, payload and its CRLF). `NEED_MORE` when the bytes end before the line does
   * and it is regular so far; `OTHER` for anything else.
   */
  private control(buf: Uint8Array, at: number, end: number): number {
    let i = at;
    let maxTokens = MAX_TOKENS - 1;
    if (buf[i] === UPPER_H) {
      maxTokens = MAX_TOKENS;
      i++;
    }
    // "MSG ", byte by byte: the bytes may end anywhere.
    if (i < end && buf[i++] !== UPPER_M) return OTHER;
    if (i < end && buf[i++] !== UPPER_S) return OTHER;
    if (i < end && buf[i++] !== UPPER_G) return OTHER;
    if (i < end && buf[i++] !== SPACE) return OTHER;
    if (i >= end) return NEED_MORE;
    const bounds = this.bounds;
    let tokens = 0;
    for (;;) {
      // A token: at least one byte, none of them a separator; then one space or CRLF.
      const first = i;
      let byte = 0;
      while (i < end) {
        byte = buf[i] as number;
        if (byte === SPACE || byte === CR || byte === LF || byte === TAB) break;
        i++;
      }
      if (i >= end) return NEED_MORE;
      if (i === first || tokens === maxTokens || byte === LF || byte === TAB) return OTHER;
      bounds[tokens * 2] = first;
      bounds[tokens * 2 + 1] = i;
      tokens++;
      i++;
      if (byte === CR) break;
      if (i >= end) return NEED_MORE;
    }
    if (i >= end) return NEED_MORE;
    if (buf[i] !== LF || tokens < maxTokens - 1) return OTHER;
    // The numbers: sid second, size last, the header length before it for HMSG (-1 for MSG).
    const sid = this.number(buf, 1);
    const size = this.number(buf, tokens - 1);
    const hdr = maxTokens === MAX_TOKENS ? this.number(buf, tokens - 2) : -1;
    if (sid < 0 || size < 0 || size > MAX_SIZE) return OTHER;
    if (maxTokens === MAX_TOKENS && (hdr < 0 || hdr > size)) return OTHER;
    // With a reply subject, it is the third token: subject sid reply [hdr] size.
    this.replied = tokens === maxTokens;
    this.lineEnd = i + 1;
    this.sid = sid;
    this.hdr = hdr;
    this.size = size;
    return this.lineEnd - at + size + 2;
  }

  /** Token `index` of the last control line as a number, as the client computes it; -1 if not one. */
  private number(buf: Uint8Array, index: number): number {
    const first = this.bounds[index * 2] as number;
    const last = this.bounds[index * 2 + 1] as number;
    if (last - first > MAX_DIGITS) return -1;
    let n = 0;
    for (let i = first; i < last; i++) {
      const byte = buf[i] as number;
      if (byte < DIGIT_0 || byte > DIGIT_9) return -1;
      n = n * 10 + (byte - DIGIT_0);
    }
    return n;
  }

  /**
   * Hands the frame at `at` (read by `control`) to the client's protocol handler: false, nothing
   * dispatched, when its payload is not followed by CRLF.
   */
  private dispatch(buf: Uint8Array, at: number, length: number): boolean {
    const end = at + length;
    if (buf[end - 2] !== CR || buf[end - 1] !== LF) return false;
    const bounds = this.bounds;
    // Built in the order the client's parser builds its own, so both have one shape.
    const ma = {} as MsgArg;
    ma.sid = -1;
    ma.hdr = -1;
    ma.size = -1;
    ma.subject = this.subjectOf(buf, bounds[0] as number, bounds[1] as number);
    ma.sid = this.sid;
    ma.reply = this.replied ? view(buf, bounds[4] as number, bounds[5] as number) : undefined;
    ma.hdr = this.hdr;
    ma.size = this.size;
    this.protocol.processMsg(ma, view(buf, this.lineEnd, end - 2));
    return true;
  }

  /** The subject bytes from `first` to `last`: the last message's array when they are the same. */
  private subjectOf(buf: Uint8Array, first: number, last: number): Uint8Array {
    const known = this.subject;
    if (known.length === last - first) {
      let i = 0;
      while (i < known.length && known[i] === buf[first + i]) i++;
      if (i === known.length) return known;
    }
    this.subject = new Uint8Array(last - first);
    this.subject.set(buf.subarray(first, last));
    return this.subject;
  }

  /** Keeps the op at `at`, which the chunk ends inside, for the next chunk. */
  private keep(buf: Uint8Array, at: number, end: number, need: number): void {
    this.need = need;
    this.filled = end - at;
    this.tail = new Uint8Array(need > 0 ? need : this.filled);
    this.tail.set(buf.subarray(at, end));
  }

  /**
   * Completes the kept frame with the start of `chunk` and dispatches it: the offset in `chunk`
   * after it, where reading goes on (the chunk's length when the frame takes all of it).
   */
  private continueTail(chunk: Uint8Array): number {
    if (this.need > 0) return this.fillTail(chunk, 0);
    // Its control line had not ended: read it once it has.
    const lf = chunk.indexOf(LF);
    const line = concat(this.tail as Uint8Array, chunk, lf < 0 ? chunk.length : lf + 1);
    this.tail = undefined;
    const length = this.control(line, 0, line.length);
    if (length === NEED_MORE) {
      this.keep(line, 0, line.length, 0);
      return chunk.length;
    }
    if (length === OTHER) {
      this.delegated = !this.give(line);
      return lf < 0 ? chunk.length : lf + 1;
    }
    this.keep(line, 0, line.length, length);
    return this.fillTail(chunk, lf + 1);
  }

  /** Copies what the kept frame still needs from `chunk` at `from`; dispatches it once whole. */
  private fillTail(chunk: Uint8Array, from: number): number {
    const frame = this.tail as Uint8Array;
    const take = Math.min(this.need - this.filled, chunk.length - from);
    frame.set(chunk.subarray(from, from + take), this.filled);
    this.filled += take;
    if (this.filled < this.need) return chunk.length;
    this.tail = undefined;
    this.control(frame, 0, frame.length);
    if (!this.dispatch(frame, 0, frame.length)) this.delegated = !this.give(frame);
    return from + take;
  }

  /** Gives the client's parser `bytes`; whether it has nothing pending afterwards. */
  private give(bytes: Uint8Array): boolean {
    this.inner.parse(bytes);
    return this.inner.state === this.start;
  }

  /** The rest of `buf` from `at` to the client's parser; it has the stream while it holds a part. */
  private handOver(buf: Uint8Array, at: number): void {
    this.delegated = !this.give(at === 0 ? buf : buf.subarray(at));
  }
}

/** A plain view of `buf`'s bytes from `first` to `last`: cheaper to make than a `Buffer`. */
function view(buf: Uint8Array, first: number, last: number): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset + first, last - first);
}

/** `head` followed by the first `count` bytes of `next`, in a new array. */
function concat(head: Uint8Array, next: Uint8Array, count: number): Uint8Array {
  const joined = new Uint8Array(head.length + count);
  joined.set(head);
  joined.set(next.subarray(0, count), head.length);
  return joined;
}

/**
 * Has `connection`'s frames read by a `FrameReader`, for this connection and every reconnect of it.
 * False, and nothing changed, when the client does not have the parser it takes the place of.
 */
export function readFramesOf(connection: object): boolean {
  return replaceParser(
    connection,
    (handler, parser, idleState) => new FrameReader(handler, parser, idleState),
  );
}
