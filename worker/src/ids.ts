/**
 * Time-ordered ids for events and sessions: UUID version 7 (RFC 9562), the Unix ms timestamp in
 * the first 48 bits, then 74 random bits. Why not crypto.randomUUID(): the ids are primary keys
 * (D1 `events` and `sessions`, the DO outboxes), and random keys land on a random B-tree page
 * each, so every event dirtied a page per index that a commit then writes to the WAL; ids that
 * grow with time append to the same few pages. Uniqueness (what the idempotent flush relies on)
 * comes from the 74 random bits, as with v4's 122. The timestamp is the event's own `ts`, which
 * is stored next to the id anyway.
 */

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/** A UUIDv7 string for Unix-ms time `ts`, e.g. `0193f0c2-5d1a-7b3e-9c4f-1a2b3c4d5e6f`. */
export function timeOrderedId(ts: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const ms = Math.max(0, Math.floor(ts));
  // 48-bit big-endian milliseconds (2^48 ms is the year 10889).
  const high = Math.floor(ms / 2 ** 32);
  const low = ms >>> 0;
  bytes[0] = (high >>> 8) & 0xff;
  bytes[1] = high & 0xff;
  bytes[2] = low >>> 24;
  bytes[3] = (low >>> 16) & 0xff;
  bytes[4] = (low >>> 8) & 0xff;
  bytes[5] = low & 0xff;
  bytes[6] = 0x70 | (bytes[6]! & 0x0f); // version 7
  bytes[8] = 0x80 | (bytes[8]! & 0x3f); // variant 10
  let out = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += "-";
    out += HEX[bytes[i]!];
  }
  return out;
}
