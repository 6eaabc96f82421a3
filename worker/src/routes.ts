/**
 * The collector's routes: path -> method -> handler. Unknown paths answer 404 and known paths
 * with another method 405, both in the `{code, message}` shape.
 */
import type { Env } from "./env";
import { errorResponse, json, preflight } from "./http";
import { isDrop } from "./ingest/drop";
import { ingestRequest } from "./ingest/pipeline";
import { serveTracker } from "./tracker";

type Handler = (request: Request, env: Env) => Response | Promise<Response>;

const ROUTES: Record<string, Record<string, Handler>> = {
  "/script.js": { GET: serveTracker, HEAD: serveTracker },
  "/api/event": { POST: postEvent },
  "/health": { GET: () => json({ ok: true }) },
};

/** Routes a request; every answer, including errors, is JSON with CORS headers. */
export async function route(request: Request, env: Env): Promise<Response> {
  const methods = ROUTES[new URL(request.url).pathname];
  if (!methods) return errorResponse(404, "not_found", "no such route");
  if (request.method === "OPTIONS") return preflight();
  const handler = methods[request.method];
  if (!handler) {
    const allow = [...Object.keys(methods), "OPTIONS"].join(", ");
    return errorResponse(405, "method_not_allowed", `use ${allow}`, { Allow: allow });
  }
  return handler(request, env);
}

/** POST /api/event: 202 `{ok: true}` once the event is stored, else the drop as `{code, message}`. */
async function postEvent(request: Request, env: Env): Promise<Response> {
  const outcome = await ingestRequest(request, env);
  if (isDrop(outcome)) return errorResponse(outcome.status, outcome.reason, outcome.message);
  return json({ ok: true }, 202);
}
