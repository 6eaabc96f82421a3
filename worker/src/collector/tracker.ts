/**
 * GET /script.js and its feature variants (script.outbound-links.file-downloads.js, …): the
 * tracker, built from worker/tracker/script.js by scripts/build-tracker.mjs. Features may be named
 * in any order; the response is the variant with exactly those features. Cached for an hour (a
 * changed tracker reaches browsers within that hour) and revalidated by ETag after that.
 */
import { TRACKER_FEATURES, TRACKER_VARIANTS } from "../generated/tracker";
import { CORS_HEADERS, errorResponse } from "../http";

/** Matches the tracker's paths: /script.js and /script.<feature>[.<feature>…].js. */
export const TRACKER_PATH = /^\/script((?:\.[a-z0-9-]+)*)\.js$/;

/** The variant file name for a requested path, or null when a feature is unknown or repeated. */
export function variantFor(pathname: string): string | null {
  const match = TRACKER_PATH.exec(pathname);
  if (!match) return null;
  const asked = (match[1] ?? "").split(".").filter(Boolean);
  const known: readonly string[] = TRACKER_FEATURES;
  if (asked.some((feature) => !known.includes(feature)) || new Set(asked).size !== asked.length) return null;
  return ["script", ...known.filter((feature) => asked.includes(feature)), "js"].join(".");
}

/** Serves a tracker variant, answering 304 when the browser already holds this version. */
export function serveTracker(request: Request): Response {
  const name = variantFor(new URL(request.url).pathname);
  const variant = name ? TRACKER_VARIANTS[name] : undefined;
  if (!variant) return errorResponse(404, "not_found", `unknown tracker feature; known: ${TRACKER_FEATURES.join(", ")}`);
  const headers = {
    "Content-Type": "application/javascript; charset=utf-8",
    "Cache-Control": "public, max-age=3600",
    ETag: variant.etag,
    // Sites that set Cross-Origin-Embedder-Policy can still load the script.
    "Cross-Origin-Resource-Policy": "cross-origin",
    ...CORS_HEADERS,
  };
  if (request.headers.get("If-None-Match") === variant.etag) return new Response(null, { status: 304, headers });
  return new Response(request.method === "HEAD" ? null : variant.js, { headers });
}
