/**
 * The realtime routes. `site` in the path is the site's domain; the token comes in `?token=`
 * (browsers cannot set headers on a WebSocket) and is checked here, before the DO is woken.
 *
 * - `GET /api/realtime/:site` (WebSocket upgrade): a refused token is still upgraded, then closed
 *   at once with code 1008 (policy violation) and the reason, because a browser WebSocket cannot
 *   read an HTTP error status. Without an `Upgrade: websocket` header: 426.
 * - `GET /api/realtime/:site/snapshot`: the same state as JSON; 401 for a missing, malformed,
 *   badly signed or expired token, 403 for a token of another site, 404 for an unknown site.
 * - Both: 400 for a `:site` that is not valid percent-encoding; 503 `realtime_misconfigured`
 *   (a socket: closed with 1011) when REALTIME_SECRET is the development value or too short and
 *   the request is not to a loopback host (token.ts, secretProblem).
 */
import type { Env } from "../../env";
import { numberVar } from "../../vars";
import { errorResponse, json } from "../../http";
import { lookupSite } from "../site-lookup";
import { secretProblem, verifyToken } from "./token";

/** Matches `/api/realtime/<site>` and `/api/realtime/<site>/snapshot`. */
export const REALTIME_PATH = /^\/api\/realtime\/([^/]+)(\/snapshot)?$/;

/** The WebSocket close code for refused tokens and unknown sites. */
export const POLICY_VIOLATION = 1008;
/** The WebSocket close code for a collector that may not serve realtime (a weak secret). */
export const INTERNAL_ERROR = 1011;

function refuseSocket(reason: string, code = POLICY_VIOLATION): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.close(code, reason);
  return new Response(null, { status: 101, webSocket: client });
}

/** The site's domain from the path, or null when its percent-encoding is malformed (`%ZZ`). */
function siteFromPath(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded).toLowerCase();
  } catch {
    return null;
  }
}

/** GET /api/realtime/:site[/snapshot]; see the module comment. */
export async function getRealtime(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  const match = REALTIME_PATH.exec(url.pathname);
  const domain = siteFromPath(match?.[1] ?? "");
  if (domain === null) return errorResponse(400, "bad_request", "the site in the path is not valid percent-encoding");
  const isSnapshot = Boolean(match?.[2]);
  const wantsSocket = request.headers.get("Upgrade")?.toLowerCase() === "websocket";
  if (!isSnapshot && !wantsSocket) return errorResponse(426, "upgrade_required", "expected a WebSocket upgrade", { Upgrade: "websocket" });

  const weak = env.REALTIME_SECRET ? secretProblem(env.REALTIME_SECRET, url.hostname) : null;
  if (weak !== null) {
    if (!isSnapshot) return refuseSocket(weak, INTERNAL_ERROR);
    const fix = "set it to the dashboard's ANALYTICS_941_SECRET with `wrangler secret put REALTIME_SECRET`";
    return errorResponse(503, "realtime_misconfigured", `realtime is disabled: ${weak}; ${fix}`);
  }

  const check = await verifyToken(url.searchParams.get("token"), env.REALTIME_SECRET, domain);
  if (!check.ok) {
    if (!isSnapshot) return refuseSocket(check.reason);
    const status = check.reason === "token is for another site" ? 403 : 401;
    return errorResponse(status, status === 403 ? "forbidden" : "unauthorized", check.reason);
  }
  const site = await lookupSite(env.DB, domain, numberVar(env.SITE_CACHE_TTL_S, 60));
  if (!site) {
    const reason = `no site is registered for domain ${JSON.stringify(domain)}`;
    return isSnapshot ? errorResponse(404, "unknown_site", reason) : refuseSocket(reason);
  }
  const stub = env.SITE_DO.get(env.SITE_DO.idFromName(site.id));
  if (isSnapshot) return json(await stub.snapshot());
  const headers = new Headers(request.headers);
  headers.set("X-Realtime-Site", domain);
  headers.set("X-Realtime-Exp", String(check.exp));
  return stub.fetch(new Request(request.url, { headers }));
}
