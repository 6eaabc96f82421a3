/**
 * GET /script.js and its feature variants (script.outbound-links.file-downloads.js, …): the
 * tracker, built from worker/tracker/script.js by scripts/build-tracker.mjs into static assets
 * (wrangler.toml [assets]; the Worker runs first so every answer gets the headers below). Features
 * may be named in any order; the response is the variant with exactly those features. Cached for
 * an hour (a changed tracker reaches browsers within that hour), then revalidated by the asset's
 * ETag.
 */
import type { Env } from "../env";
import { TRACKER_FEATURES } from "../generated/tracker";
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

/** Serves a tracker variant from the assets, answering 304 when the browser already holds it. */
export async function serveTracker(request: Request, env: Env): Promise<Response> {
  const name = variantFor(new URL(request.url).pathname);
  if (!name) return errorResponse(404, "not_found", `unknown tracker feature; known: ${TRACKER_FEATURES.join(", ")}`);
  const conditional = request.headers.get("If-None-Match");
  const asset = await env.ASSETS.fetch(new URL(`/${name}`, request.url), {
    method: request.method,
    headers: conditional ? { "If-None-Match": conditional } : {},
  });
  if (asset.status !== 200 && asset.status !== 304) {
    // The assets folder lacks a variant the code names: a deploy without its build step.
    return errorResponse(503, "tracker_not_built", "the tracker variants were not built: run `node scripts/build.mjs tracker`, then deploy");
  }
  const headers = new Headers({
    "Content-Type": "application/javascript; charset=utf-8",
    "Cache-Control": "public, max-age=3600",
    // Sites that set Cross-Origin-Embedder-Policy can still load the script.
    "Cross-Origin-Resource-Policy": "cross-origin",
    ...CORS_HEADERS,
  });
  const etag = asset.headers.get("ETag");
  if (etag) headers.set("ETag", etag);
  return new Response(asset.status === 304 || request.method === "HEAD" ? null : asset.body, { status: asset.status, headers });
}
