/**
 * The visitor hash: HMAC-SHA256(daily_salt, site_id ‖ ip ‖ user_agent), its first 66 bits as
 * 11 characters of the ids' alphabet (ids.ts): short, because it sits in every events and sessions
 * row and in their indexes, and still without a collision among a site's visitors of a day. The salt is random per UTC day and deleted after two days, so a hash cannot be reversed
 * to an IP or linked to the same visitor on another day. Salts live in the site's DO storage.
 */

import { toDigits } from "../ids";

const DAY_MS = 86_400_000;
const HASH_CHARS = 11;

/** The UTC calendar day of a Unix-ms timestamp, as "YYYY-MM-DD". */
export function utcDay(ts: number): string {
  return new Date(ts).toISOString().slice(0, 10);
}

/** The UTC day before `ts`'s day. */
export function previousUtcDay(ts: number): string {
  return utcDay(ts - DAY_MS);
}

/** A fresh random 32-byte salt, hex-encoded. */
export function newSalt(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * Computes the visitor id. The parts are joined with NUL, which cannot occur in a site id, an
 * IP or a header value, so two different (ip, ua) pairs never concatenate to the same input.
 */
export async function visitorHash(saltHex: string, siteId: string, ip: string, userAgent: string): Promise<string> {
  const key = await hmacKey(saltHex);
  const message = encoder.encode(`${siteId}\0${ip}\0${userAgent}`);
  const mac = await crypto.subtle.sign("HMAC", key, message);
  return toDigits(new Uint8Array(mac, 0, HASH_CHARS));
}

const encoder = new TextEncoder();

// Imported keys per salt: two salts are live at a time, so importing once per day and salt
// instead of once per event takes a key import off the hot path.
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(saltHex: string): Promise<CryptoKey> {
  let key = keys.get(saltHex);
  if (!key) {
    if (keys.size >= 4) keys.clear();
    key = crypto.subtle.importKey("raw", fromHex(saltHex), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(saltHex, key);
  }
  return key;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
