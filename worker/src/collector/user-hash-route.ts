/**
 * `POST /api/users/:site/hash` `{"id": "<identify() id>"}` → `{"user_id": "<64 hex>"}`: the value
 * sessions.user_id and user_traits.user_id hold for that id on that site. D1 keeps only this
 * keyed hash and the key never leaves the site's Durable Object, so the dashboard's erasure and
 * access requests (`analytics_941.user_data`) ask for it here; the DO computes it with the
 * collector's own function (site-do/user-hash.ts).
 *
 * `POST /api/users/:site/forget` `{"user_id": "<64 hex>"}` → `{"sessions": n, "rows": n}`: an
 * erasure's first step. The site's DO drops that user's live visits and their rows still waiting
 * for a flush (site-do/forget-user.ts), and answers once nothing of them can reach D1 any more,
 * so the D1 deletion that follows is final. Same token, same answers as the hash route (400 a
 * body without a 64-hex hash).
 *
 * `:site` is the site's id; `Authorization: Bearer <token>`: realtime-token shaped (the site id,
 * at most five minutes), signed with its own key HMAC-SHA256(REALTIME_SECRET, USER_HASH_CONTEXT),
 * so no realtime, archive or report token opens this route. 401 missing or bad token, 403
 * another site's, 400 a bad body or an id the collector would refuse, 404 unknown site, 503 no
 * or a weak secret outside loopback.
 */
import type { Env } from "../env";
import { errorResponse, json } from "../http";
import { derivedKey } from "../reports/tokens";
import { userIdProblem } from "../site-do/user-hash";
import { secretProblem, verifyToken } from "./realtime/token";

export const USER_HASH_PATH = /^\/api\/users\/([^/]+)\/(hash|forget)$/;

/** The context of this route's token key (twin: analytics_941.user_hash_client). */
export const USER_HASH_CONTEXT = "941-analytics user hash v1";

// A JSON string of MAX_USER_ID_LENGTH characters escaped as \uXXXX is 6 bytes each: far below.
const MAX_BODY_BYTES = 4096;

const USER_HASH = /^[0-9a-f]{64}$/;

/** POST /api/users/:site/hash and /forget; see the module comment. */
export async function postUserHash(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  const [, encoded = "", action] = USER_HASH_PATH.exec(url.pathname) ?? [];
  let siteId: string;
  try {
    siteId = decodeURIComponent(encoded);
  } catch {
    return errorResponse(400, "bad_request", "the site in the path is not valid percent-encoding");
  }
  const secret = env.REALTIME_SECRET;
  if (!secret) return errorResponse(503, "users_misconfigured", "REALTIME_SECRET is not set on this collector");
  const weak = secretProblem(secret, url.hostname);
  if (weak) return errorResponse(503, "users_misconfigured", weak);
  const bearer = /^Bearer (\S+)$/.exec(request.headers.get("Authorization") ?? "")?.[1] ?? null;
  const check = await verifyToken(bearer, await derivedKey(secret, USER_HASH_CONTEXT), siteId);
  if (!check.ok) {
    const forbidden = check.reason === "token is for another site";
    return errorResponse(forbidden ? 403 : 401, forbidden ? "forbidden" : "unauthorized", check.reason);
  }
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) return errorResponse(413, "too_large", `the body is over ${MAX_BODY_BYTES} bytes`);
  const forget = action === "forget";
  let body: { id?: unknown; user_id?: unknown } | null;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return errorResponse(400, "bad_request", forget ? 'the body must be JSON: {"user_id": "<64 hex>"}' : 'the body must be JSON: {"id": "<user id>"}');
  }
  const id = forget ? body?.user_id : body?.id;
  const problem = forget ? (typeof id === "string" && USER_HASH.test(id) ? null : "user_id must be a user hash (64 lowercase hex characters)") : userIdProblem(id);
  if (problem) return errorResponse(400, forget ? "bad_request" : "bad_user_id", problem);
  const site = await env.DB.prepare("SELECT id FROM sites WHERE id = ?").bind(siteId).first<{ id: string }>();
  if (!site) return errorResponse(404, "unknown_site", `no site has the id ${JSON.stringify(siteId)}`);
  const stub = env.SITE_DO.get(env.SITE_DO.idFromName(site.id));
  if (forget) return json(await stub.forgetUser(id as string));
  return json({ user_id: await stub.hashUserId(id as string) });
}
