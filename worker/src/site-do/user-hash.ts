/**
 * The identified user's stored id (issue 17, opt-in identity): sessions.user_id and
 * user_traits.user_id hold `userHash(secret, id)`, never the id a site passed to identify().
 *
 * Contract (the collector's identify() and the erasure/export endpoint both call this module, so
 * an id hashes the same on both paths; keep the signatures stable):
 *
 *   userIdProblem(id: unknown): string | null
 *     Why `id` cannot be an identify() id (a message for the caller), or null when it can: a
 *     string of 1..MAX_USER_ID_LENGTH UTF-16 units, no lone surrogate (UTF-8 would turn each into
 *     U+FFFD and two different ids would hash alike), no control character. Call it first;
 *     userHash assumes a valid id.
 *
 *   userHash(secretHex: string, id: string): Promise<string>
 *     HMAC-SHA256 under the site's secret (hex, as userSecret returns it) of the id's UTF-8
 *     bytes, exactly as given (no trimming, no case folding), as 64 lowercase hex characters.
 *
 *   userSecret(sql: SqlStorage): string
 *     The site's secret from its Durable Object storage, created (32 random bytes) on first use.
 *     It never leaves the DO: without it a stored hash cannot be tied back to an id.
 */

/** The longest id accepted, in UTF-16 code units (JavaScript string length). */
export const MAX_USER_ID_LENGTH = 256;

// C0 controls, DEL and C1 controls: invisible in logs and files, never part of a real id.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** See the module comment. */
export function userIdProblem(id: unknown): string | null {
  if (typeof id !== "string") return "the user id must be a string";
  if (id.length === 0) return "the user id is empty";
  if (id.length > MAX_USER_ID_LENGTH) return `the user id is longer than ${MAX_USER_ID_LENGTH} characters`;
  if (LONE_SURROGATE.test(id)) return "the user id is not valid Unicode (a lone surrogate)";
  if (CONTROL.test(id)) return "the user id holds a control character";
  return null;
}

/** See the module comment. */
export async function userHash(secretHex: string, id: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secretHex), new TextEncoder().encode(id));
  return toHex(new Uint8Array(mac));
}

/** See the module comment. */
export function userSecret(sql: SqlStorage): string {
  sql.exec("CREATE TABLE IF NOT EXISTS user_secret (id INTEGER PRIMARY KEY CHECK (id = 1), secret TEXT NOT NULL)");
  sql.exec("INSERT OR IGNORE INTO user_secret (id, secret) VALUES (1, ?)", toHex(crypto.getRandomValues(new Uint8Array(32))));
  return sql.exec<{ secret: string }>("SELECT secret FROM user_secret WHERE id = 1").one().secret;
}

// One DO serves one site, so one secret: the imported key is kept instead of importing per call.
let cached: { secretHex: string; key: Promise<CryptoKey> } | null = null;

function hmacKey(secretHex: string): Promise<CryptoKey> {
  if (cached?.secretHex !== secretHex) {
    const bytes = new Uint8Array(secretHex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(secretHex.slice(i * 2, i * 2 + 2), 16);
    cached = { secretHex, key: crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]) };
  }
  return cached.key;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
