/**
 * UTF-8 for what Brigade sends (bodies and header blocks), cut from a shared slab instead of each
 * text getting an `ArrayBuffer` of its own. A small `TextEncoder#encode` allocates a backing store
 * outside the V8 heap (a `malloc` and the tracking that frees it after a collection), which costs
 * more than encoding a ~100-byte text itself. Each text gets its own region of the slab, never
 * written again; a full slab is left to the texts cut from it and freed with the last of them.
 * Texts that could take more than `MAX_SLAB_TEXT_BYTES` get an array of their own, so a kept
 * small text holds at most one slab.
 */
const SLAB_BYTES = 16 * 1024;
const MAX_SLAB_TEXT_BYTES = 2 * 1024;
const encoder = new TextEncoder();
let slab = new Uint8Array(SLAB_BYTES);
let used = 0;

export function encodeUtf8(text: string): Uint8Array {
  // A UTF-16 code unit takes at most 3 bytes of UTF-8.
  const most = text.length * 3;
  if (most > MAX_SLAB_TEXT_BYTES) return encoder.encode(text);
  if (SLAB_BYTES - used < most) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const start = used;
  used += encoder.encodeInto(text, slab.subarray(start)).written;
  return slab.subarray(start, used);
}
