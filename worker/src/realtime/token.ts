/**
 * Realtime tokens: `base64url(payload).base64url(HMAC-SHA256(secret, payload))`, where payload is
 * the JSON `{"site": <domain>, "exp": <unix seconds>}`. The Python dashboard signs them
 * (`analytics_941.realtime.realtime_token`) with ANALYTICS_941_SECRET; the collector checks them
 * with the same value as REALTIME_SECRET. A token lives at most MAX_TOKEN_TTL_S.
 */

/** The longest lifetime a token may claim, in seconds (plus CLOCK_SKEW_S of clock drift). */
export const MAX_TOKEN_TTL_S = 300;
const CLOCK_SKEW_S = 30;

/** The outcome of a token check: the checked payload, or why it was refused. */
export type TokenCheck = { ok: true; site: string; exp: number } | { ok: false; reason: string };

const encoder = new TextEncoder();

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

/** Signs a token (the collector never needs to; tests and tools do). */
export async function signToken(secret: string, site: string, exp: number): Promise<string> {
  const payload = encoder.encode(JSON.stringify({ site, exp }));
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret, "sign"), payload));
  return `${toBase64Url(payload)}.${toBase64Url(signature)}`;
}

/**
 * Checks a token for `site` at `nowS` (Unix seconds): a valid signature (compared in constant
 * time by WebCrypto), the same site, not expired, and not valid for longer than allowed.
 */
export async function verifyToken(token: string | null, secret: string | undefined, site: string, nowS = Date.now() / 1000): Promise<TokenCheck> {
  if (!secret) return { ok: false, reason: "realtime is not configured on this collector" };
  if (!token) return { ok: false, reason: "missing token" };
  const [payloadPart, signaturePart, extra] = token.split(".");
  const payload = payloadPart ? fromBase64Url(payloadPart) : null;
  const signature = signaturePart ? fromBase64Url(signaturePart) : null;
  if (extra !== undefined || !payload || !signature) return { ok: false, reason: "malformed token" };
  if (!(await crypto.subtle.verify("HMAC", await hmacKey(secret, "verify"), signature, payload))) {
    return { ok: false, reason: "bad token signature" };
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return { ok: false, reason: "malformed token" };
  }
  const { site: tokenSite, exp } = (claims ?? {}) as { site?: unknown; exp?: unknown };
  if (typeof tokenSite !== "string" || typeof exp !== "number" || !Number.isFinite(exp)) return { ok: false, reason: "malformed token" };
  if (tokenSite !== site) return { ok: false, reason: "token is for another site" };
  if (exp <= nowS) return { ok: false, reason: "token expired" };
  if (exp > nowS + MAX_TOKEN_TTL_S + CLOCK_SKEW_S) return { ok: false, reason: "token lifetime too long" };
  return { ok: true, site: tokenSite, exp };
}
