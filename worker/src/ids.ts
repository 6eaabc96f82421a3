/**
 * Compact, time-ordered ids for events and sessions, and the alphabet of every compact id.
 *
 * An id is the Unix ms timestamp in 8 characters (48 bits) then 7 random characters (42 bits):
 * 15 characters where a UUID takes 36. Ids are primary keys and sit in several indexes, so their
 * length is paid on every row of `events` and `sessions` several times over. Time order keeps
 * inserts appending to the same few B-tree pages instead of dirtying a random page per index.
 * Uniqueness, which the idempotent flush relies on, comes from the random part: two ids of the
 * same millisecond collide with probability 2^-42.
 */

/** Base 64 with its digits in ASCII order, so ids compare as strings as they do as numbers. */
export const ALPHABET = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

const TIME_CHARS = 8;
const RANDOM_CHARS = 7;

/** `bytes` as characters of ALPHABET, the low six bits of each (a uniform byte gives a uniform digit). */
export function toDigits(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte & 63];
  return out;
}

/** A 15-character id for Unix-ms time `ts`, e.g. `0Ms5lCjV1aZx-Q3`. */
export function timeOrderedId(ts: number): string {
  let ms = Math.max(0, Math.floor(ts));
  let time = "";
  // 2^48 ms is the year 10889; arithmetic, not bit operators, which stop at 32 bits.
  for (let i = 0; i < TIME_CHARS; i++) {
    time = ALPHABET[ms % 64] + time;
    ms = Math.floor(ms / 64);
  }
  return time + toDigits(crypto.getRandomValues(new Uint8Array(RANDOM_CHARS)));
}

/**
 * The Unix-ms time an event id carries: this module's ids, or the UUIDv7 ids written before them
 * (the time in their first 48 bits). Null for anything else.
 */
export function timeOfId(id: string): number | null {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-7/.test(id)) return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  if (id.length !== TIME_CHARS + RANDOM_CHARS) return null;
  let ms = 0;
  for (const ch of id.slice(0, TIME_CHARS)) {
    const digit = ALPHABET.indexOf(ch);
    if (digit < 0) return null;
    ms = ms * 64 + digit;
  }
  return ms;
}
