/**
 * The collector's routes: path -> method -> handler. Unknown paths answer 404 and known paths
 * with another method 405, both in the `{code, message}` shape.
 */
import type { Env } from "../env";
import { ARCHIVE_PATH, getArchive, postArchive } from "./archive-routes";
import { errorResponse, json, preflight } from "../http";
import { isDrop } from "./ingest/drop";
import { ingestRequest } from "./ingest/pipeline";
import { getRealtime, REALTIME_PATH } from "./realtime/routes";
import { serveTracker, TRACKER_PATH } from "./tracker";

type Handler = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

const TRACKER = { GET: serveTracker, HEAD: serveTracker };
const REALTIME = { GET: getRealtime };
const ARCHIVE = { GET: getArchive, POST: postArchive };

const ROUTES: Record<string, Record<string, Handler>> = {
  "/api/event": { POST: postEvent },
  "/health": { GET: () => json({ ok: true }) },
};

/** Routes a request; every answer, including errors, is JSON with CORS headers. */
export async function route(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const path = new URL(request.url).pathname;
  const methods = ROUTES[path] ?? (TRACKER_PATH.test(path) ? TRACKER : REALTIME_PATH.test(path) ? REALTIME : ARCHIVE_PATH.test(path) ? ARCHIVE : undefined);
  if (!methods) return errorResponse(404, "not_found", "no such route");
  if (request.method === "OPTIONS") return preflight();
  const handler: Handler | undefined = (methods as Record<string, Handler>)[request.method];
  if (!handler) {
    const allow = [...Object.keys(methods), "OPTIONS"].join(", ");
    return errorResponse(405, "method_not_allowed", `use ${allow}`, { Allow: allow });
  }
  return handler(request, env, ctx);
}

/**
 * POST /api/event: 202 `{ok: true}` once the event is stored, else the drop as `{code, message}`
 * (202 too for bots and excluded pages, see ingest/drop.ts).
 */
async function postEvent(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const outcome = await ingestRequest(request, env, ctx);
  if (isDrop(outcome)) return errorResponse(outcome.status, outcome.reason, outcome.message);
  return json({ ok: true }, 202);
}
