/**
 * Realtime tokens: `base64url(payload).base64url(HMAC-SHA256(secret, payload))`, where payload is
 * the JSON `{"site": <domain>, "exp": <unix seconds>}`. The Python dashboard signs them
 * (`analytics_941.realtime.realtime_token`) with ANALYTICS_941_SECRET; the collector checks them
 * with the same value as REALTIME_SECRET. A token lives at most MAX_TOKEN_TTL_S.
 */

/**
 * The development REALTIME_SECRET of wrangler.toml (and the dashboard's DEV_SECRET): public, so
 * anyone could sign tokens with it. Refused, like any secret under MIN_SECRET_BYTES, unless the
 * request comes to a loopback host (see secretProblem).
 */
export const DEV_SECRET = "dev-insecure-941-secret-change-me";
/** The shortest REALTIME_SECRET accepted outside loopback, in bytes (an HMAC-SHA256 key). */
export const MIN_SECRET_BYTES = 32;

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

/** True for `localhost`, `127.0.0.0/8` and `[::1]`: a URL hostname that only this machine reaches. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Why REALTIME_SECRET may not check tokens of a request to `hostname`, or null when it may: the
 * public development value, or a secret shorter than MIN_SECRET_BYTES, is accepted on a loopback
 * host only (local development), so a deployer who forgot `wrangler secret put` exposes nothing.
 */
export function secretProblem(secret: string, hostname: string): string | null {
  if (isLoopbackHost(hostname)) return null;
  // Short enough for a WebSocket close reason (at most 123 bytes).
  if (secret === DEV_SECRET) return "REALTIME_SECRET is the public development value";
  if (encoder.encode(secret).byteLength < MIN_SECRET_BYTES) return `REALTIME_SECRET is shorter than ${MIN_SECRET_BYTES} bytes`;
  return null;
}
