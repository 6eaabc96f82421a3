/**
 * API tokens on the collector: the bearer secret of a dashboard-made token
 * (src/analytics_941/auth/api_tokens.py), checked against D1's `api_tokens` by the same hash
 * the dashboard stores: hex SHA-256 of the secret's UTF-8 bytes (auth/crypto.py's hash_token;
 * tests/fixtures/contracts/api_token_hashes.json pins both sides). The secret itself is never
 * stored or logged.
 */

/** Every token secret starts with this (api_tokens.TOKEN_PREFIX). */
export const TOKEN_PREFIX = "a941_t_";

/** A live token's sites and scopes. */
export interface TokenGrant {
  id: string;
  siteIds: string[];
  scopes: string[];
}

/** Hex SHA-256 of `secret`: the stored form of a token (hash_token in auth/crypto.py). */
export async function hashToken(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The bearer secret of an `Authorization: Bearer …` header, or null. */
export function bearerSecret(request: Request): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("Authorization") ?? "");
  return match?.[1] ?? null;
}

/** The live (not revoked) token for `secret`, or null for an unknown, malformed or revoked one. */
export async function findToken(db: D1Database, secret: string): Promise<TokenGrant | null> {
  if (!secret.startsWith(TOKEN_PREFIX) || secret.length > 200) return null;
  const row = await db
    .prepare("SELECT id, site_ids, scopes FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL")
    .bind(await hashToken(secret))
    .first<{ id: string; site_ids: string; scopes: string }>();
  if (!row) return null;
  const list = (text: string): string[] => {
    try {
      const value: unknown = JSON.parse(text);
      return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
    } catch {
      return [];
    }
  };
  return { id: row.id, siteIds: list(row.site_ids), scopes: list(row.scopes) };
}

/** Records the token's use, as the dashboard does; best effort. */
export async function touchToken(db: D1Database, id: string, now: number): Promise<void> {
  await db.prepare("UPDATE api_tokens SET last_used_at = ? WHERE id = ?").bind(now, id).run();
}
