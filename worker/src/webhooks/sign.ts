/**
 * Webhook signatures as the Standard Webhooks scheme has them: headers `webhook-id`,
 * `webhook-timestamp` (Unix seconds) and `webhook-signature` = `v1,` + base64 of
 * HMAC-SHA256(key, `${id}.${timestamp}.${body}`), where the endpoint's secret is `whsec_` +
 * base64 of the key bytes. A receiver recomputes it and compares in constant time
 * (docs/webhooks.md has a Python example), and refuses old timestamps to stop replays.
 */

const encoder = new TextEncoder();

function keyBytes(secret: string): Uint8Array {
  const b64 = secret.startsWith("whsec_") ? secret.slice(6) : secret;
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** The `webhook-signature` value of `body` sent as message `id` at `timestampS`. */
export async function signWebhook(secret: string, id: string, timestampS: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", keyBytes(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestampS}.${body}`)));
  return `v1,${btoa(String.fromCharCode(...mac))}`;
}

/** The three headers of a signed delivery. */
export async function webhookHeaders(secret: string, id: string, timestampS: number, body: string): Promise<Record<string, string>> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampS),
    "webhook-signature": await signWebhook(secret, id, timestampS, body),
  };
}
