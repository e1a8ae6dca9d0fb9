/**
 * The protocol lines the `nats` client writes (`PUB`, `HPUB`, `SUB`...) encoded into Brigade's
 * shared slab (`utf8-slab.ts`) instead of an `ArrayBuffer` each.
 *
 * The client builds every command as a string and has it encoded with `TextEncoder#encode`,
 * which allocates a backing store outside the V8 heap for every line of some 25 bytes; the slab
 * avoids that allocation. The bytes written are the same; only where they live differs.
 */
import { encodeCommandsWith } from './nats-internals';
import { encodeUtf8 } from './utf8-slab';

/** Has `connection`'s commands encoded into the slab; false, nothing changed, when it cannot. */
export function encodeCommandsOf(connection: object): boolean {
  return encodeCommandsWith(connection, encodeUtf8);
}
