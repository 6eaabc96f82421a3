/**
 * The reports' two signatures, each with its own key derived from REALTIME_SECRET (the
 * dashboard's ANALYTICS_941_SECRET) as HMAC-SHA256(secret, context) in hex, so no token of one
 * purpose (realtime, archive, these) is accepted for another:
 *
 * - unsubscribe links: `base64url({"site": <site id>, "email": <address>}).base64url(mac)`, no
 *   expiry (a link in an old mail still works); it can only remove that recipient from that
 *   site's reports (an alert mail's payload adds `"list": "alerts"`: from the site's alert
 *   recipients). The dashboard checks it (`analytics_941.reports_tokens`), also when a mail
 *   provider posts RFC 8058's one-click unsubscribe to it.
 * - control tokens: what the dashboard sends to ask for a preview or a test mail, realtime-token
 *   shaped (`{site: <site id>, exp}`, at most five minutes).
 */
import { signToken, verifyToken, type TokenCheck } from "../collector/realtime/token";

export const UNSUBSCRIBE_CONTEXT = "941-analytics report unsubscribe v1";
export const CONTROL_CONTEXT = "941-analytics report control v1";

const encoder = new TextEncoder();

async function mac(key: string, data: string): Promise<Uint8Array> {
  const imported = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", imported, encoder.encode(data)));
}

/** The key of `context`, derived from the shared secret. */
export async function derivedKey(secret: string, context: string): Promise<string> {
  return [...(await mac(secret, context))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** What an unsubscribe link removes the address from: the reports, or the site's alert mails. */
export type MailList = "reports" | "alerts";

/** The unsubscribe token of `email` for the site `siteId` (an alert mail's says `list`). */
export async function unsubscribeToken(secret: string, siteId: string, email: string, list: MailList = "reports"): Promise<string> {
  const payload = JSON.stringify(list === "reports" ? { site: siteId, email } : { site: siteId, email, list });
  const key = await derivedKey(secret, UNSUBSCRIBE_CONTEXT);
  return `${base64url(encoder.encode(payload))}.${base64url(await mac(key, payload))}`;
}

/** Checks a control token for the site `siteId` (see the module comment). */
export async function verifyControlToken(token: string | null, secret: string, siteId: string, nowS?: number): Promise<TokenCheck> {
  return verifyToken(token, await derivedKey(secret, CONTROL_CONTEXT), siteId, nowS);
}

/** Signs a control token (the dashboard does this; tests too). */
export async function signControlToken(secret: string, siteId: string, exp: number): Promise<string> {
  return signToken(await derivedKey(secret, CONTROL_CONTEXT), siteId, exp);
}

/** The dashboard's unsubscribe page for `token` (a GET asks, a POST unsubscribes). */
export function unsubscribeUrl(dashboardUrl: string, token: string): string {
  return `${dashboardUrl.replace(/\/+$/, "")}/reports/unsubscribe?t=${token}`;
}
