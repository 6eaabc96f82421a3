/**
 * GET /script.js: the tracker, built from worker/tracker/script.js by scripts/build-tracker.mjs.
 * Cached for an hour (a changed tracker reaches browsers within that hour) and revalidated by
 * ETag after that.
 */
import { TRACKER_ETAG, TRACKER_JS } from "./generated/tracker";
import { CORS_HEADERS } from "./http";

/** Serves the tracker, answering 304 when the browser already holds this version. */
export function serveTracker(request: Request): Response {
  const headers = {
    "Content-Type": "application/javascript; charset=utf-8",
    "Cache-Control": "public, max-age=3600",
    ETag: TRACKER_ETAG,
    // Sites that set Cross-Origin-Embedder-Policy can still load the script.
    "Cross-Origin-Resource-Policy": "cross-origin",
    ...CORS_HEADERS,
  };
  if (request.headers.get("If-None-Match") === TRACKER_ETAG) return new Response(null, { status: 304, headers });
  return new Response(request.method === "HEAD" ? null : TRACKER_JS, { headers });
}
