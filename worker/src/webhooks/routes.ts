/**
 * What the dashboard asks of the webhooks (docs/webhooks.md), signed like the report routes
 * (a control token for the site's id):
 *
 * - `POST /api/webhooks/:site/test` `{"endpoint": <id>}` → `{delivery}`: a `webhook.test` event
 *   to that endpoint, delivered (and retried) like any other.
 * - `POST /api/webhooks/:site/redeliver` `{"delivery": <id>}` → `{delivery}`: the logged message
 *   again, same `webhook-id`, from its first attempt.
 *
 * 401 bad token, 404 unknown endpoint or delivery, 503 a weak secret outside loopback or no
 * WEBHOOK_DO binding.
 */
import type { Env } from "../env";
import { errorResponse, json } from "../http";
import { secretProblem } from "../collector/realtime/token";
import { verifyControlToken } from "../reports/tokens";
import { emitEvent, redeliver } from "./events";

export const WEBHOOKS_PATH = /^\/api\/webhooks\/([^/]+)\/(test|redeliver)$/;

/** POST /api/webhooks/:site/(test|redeliver). */
export async function postWebhooks(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  const [, rawSite = "", action] = WEBHOOKS_PATH.exec(url.pathname) ?? [];
  let siteId: string;
  try {
    siteId = decodeURIComponent(rawSite);
  } catch {
    return errorResponse(400, "bad_request", "the site in the path is not valid percent-encoding");
  }
  const secret = env.REALTIME_SECRET;
  const weak = secret ? secretProblem(secret, url.hostname) : "REALTIME_SECRET is not set";
  if (!secret || weak) return errorResponse(503, "webhooks_misconfigured", weak ?? "REALTIME_SECRET is not set");
  if (!env.WEBHOOK_DO) return errorResponse(503, "webhooks_misconfigured", "no WEBHOOK_DO binding");
  const auth = request.headers.get("Authorization") ?? "";
  const check = await verifyControlToken(auth.startsWith("Bearer ") ? auth.slice(7) : null, secret, siteId);
  if (!check.ok) return errorResponse(401, "unauthorized", check.reason);
  let input: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(await request.text());
    if (parsed && typeof parsed === "object") input = parsed as Record<string, unknown>;
  } catch {
    return errorResponse(400, "bad_request", "the body is not JSON");
  }
  if (action === "test") {
    const endpoint = typeof input.endpoint === "string" ? input.endpoint : "";
    const site = await env.DB.prepare("SELECT domain FROM sites WHERE id = ?").bind(siteId).first<{ domain: string }>();
    const [delivery] = site ? await emitEvent(env, env.DB, siteId, "webhook.test", { site: site.domain, message: "A test event from 941 Analytics." }, Date.now(), endpoint) : [];
    return delivery ? json({ delivery }) : errorResponse(404, "endpoint_not_found", "no such webhook endpoint for this site");
  }
  const delivery = typeof input.delivery === "string" ? input.delivery : "";
  return (await redeliver(env, env.DB, siteId, delivery)) ? json({ delivery }) : errorResponse(404, "delivery_not_found", "no such delivery for this site");
}
