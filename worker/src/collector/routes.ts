/**
 * The collector's routes: path -> method -> handler. Unknown paths answer 404 and known paths
 * with another method 405, both in the `{code, message}` shape.
 */
import type { Env } from "../env";
import { ARCHIVE_PATH, getArchive, postArchive } from "./archive-routes";
import { errorResponse, json, preflight } from "../http";
import { BULK_PATH, postBulk } from "./bulk/route";
import { isDrop } from "./ingest/drop";
import { type Accepted, ingestRequest } from "./ingest/pipeline";
import { getRealtime, REALTIME_PATH } from "./realtime/routes";
import { postReports, REPORTS_PATH } from "../reports/routes";
import { postWebhooks, WEBHOOKS_PATH } from "../webhooks/routes";
import { ALERTS_PATH, postAlertTest } from "../alerts/routes";
import { serveTracker, TRACKER_PATH } from "./tracker";
import { postUserHash, USER_HASH_PATH } from "./user-hash-route";

type Handler = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

const TRACKER = { GET: serveTracker, HEAD: serveTracker };
const REALTIME = { GET: getRealtime };
const ARCHIVE = { GET: getArchive, POST: postArchive };
const REPORTS = { POST: postReports };
const WEBHOOKS = { POST: postWebhooks };
const ALERTS = { POST: postAlertTest };
const USER_HASH = { POST: postUserHash };

const ROUTES: Record<string, Record<string, Handler>> = {
  "/api/event": { POST: postEvent },
  [BULK_PATH]: { POST: postBulk },
  "/health": { GET: () => json({ ok: true }) },
};

/** Routes a request; every answer, including errors, is JSON with CORS headers. */
export async function route(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const path = new URL(request.url).pathname;
  const methods = ROUTES[path] ?? (TRACKER_PATH.test(path) ? TRACKER : REALTIME_PATH.test(path) ? REALTIME : ARCHIVE_PATH.test(path) ? ARCHIVE : REPORTS_PATH.test(path) ? REPORTS : WEBHOOKS_PATH.test(path) ? WEBHOOKS : ALERTS_PATH.test(path) ? ALERTS : USER_HASH_PATH.test(path) ? USER_HASH : undefined);
  if (!methods) return errorResponse(404, "not_found", "no such route");
  if (request.method === "OPTIONS") return preflight();
  const handler: Handler | undefined = (methods as Record<string, Handler>)[request.method];
  if (!handler) {
    const allow = [...Object.keys(methods), "OPTIONS"].join(", ");
    return errorResponse(405, "method_not_allowed", `use ${allow}`, { Allow: allow });
  }
  return handler(request, env, ctx);
}

/** Names the reasons a well-formed event was not counted (comma-separated, one per site it was sent to). */
export const DROPPED_HEADER = "X-941-Dropped";
const PLAUSIBLE_DROPPED_HEADER = "X-Plausible-Dropped";
/** Names why an event was counted without its identify() id (`identity_off`, `invalid_user_id`: ingest/identity.ts). */
export const IDENTITY_DROPPED_HEADER = "X-941-Identity-Dropped";

/**
 * POST /api/event, answered like Plausible: 202 for every well-formed event, counted or dropped
 * (unknown site, wrong host, bot, excluded page), the reason of a drop in DROPPED_HEADER and the
 * body. Other statuses only for what the sender should fix or retry: 400 malformed, 413 too
 * large, 429 rate limited, 503 not stored. An event sent to several sites is answered with the
 * first such status if any site gave one, else 202 `{ok: true}` when at least one counted it.
 * An event counted without its identify() id (identity off, a refused id) is a 202 too, the
 * reason in IDENTITY_DROPPED_HEADER and `identity_dropped` of the body.
 */
async function postEvent(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const outcomes = await ingestRequest(request, env, ctx);
  const drops = outcomes.filter(isDrop);
  const failed = drops.find((drop) => drop.status !== 202);
  if (failed) return errorResponse(failed.status, failed.reason, failed.message);
  const identity = outcomes.find((outcome): outcome is Accepted => !isDrop(outcome) && outcome.identityDropped !== null)?.identityDropped;
  if (drops.length === 0 && !identity) return json({ ok: true }, 202);
  const headers: Record<string, string> = {};
  const exposed: string[] = [];
  if (drops.length > 0) {
    headers[DROPPED_HEADER] = drops.map((drop) => drop.reason).join(", ");
    // Plausible's marker, which proxies and clients written for Plausible check.
    headers[PLAUSIBLE_DROPPED_HEADER] = "1";
    exposed.push(DROPPED_HEADER, PLAUSIBLE_DROPPED_HEADER);
  }
  if (identity) {
    headers[IDENTITY_DROPPED_HEADER] = identity.code;
    exposed.push(IDENTITY_DROPPED_HEADER);
  }
  // Lets a page's script read them (CORS hides other headers).
  headers["Access-Control-Expose-Headers"] = exposed.join(", ");
  const [first] = drops;
  if (drops.length === outcomes.length && first) return errorResponse(202, first.reason, first.message, headers);
  return json({ ok: true, ...(identity ? { identity_dropped: identity } : {}) }, 202, headers);
}
