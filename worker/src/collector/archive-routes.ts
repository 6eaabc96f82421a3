/**
 * The raw archive admin routes (docs/archive.md), what `analytics-941 archive` calls. `:site` is
 * the site's id; every request sends `Authorization: Bearer <token>`.
 *
 * - `GET /api/archive/:site`: `{site_id, domain, archives: [{day, key, events, sessions, bytes, archived_at}]}`.
 * - `GET /api/archive/:site/:day`: the day's file as stored (gzip NDJSON).
 * - `POST /api/archive/:site/:day/restore`: inserts the file's rows back; `{day, events, sessions}`
 *   (rows inserted) and `archived` (rows in the file). 409 while the day is still past the
 *   site's retention: the next purge would delete them again.
 *
 * Tokens are realtime tokens (realtime/token.ts: site id, short expiry) signed with a key derived
 * from REALTIME_SECRET for this purpose (archiveTokenKey), so a realtime token is no archive
 * token and the reverse. 401: missing, malformed, badly signed or expired; 403: another site's;
 * 404: unknown site, day or route; 503: no ARCHIVE bucket, a weak secret outside loopback, or a
 * site placed in a database this collector has no binding for (`database_unknown`).
 *
 * The list and the restore use the site's own database (`sites.database`), where the purge
 * listed and deleted its days.
 */
import type { Env } from "../env";
import { databaseNamed, UnknownDatabase } from "../databases";
import { errorResponse, json } from "../http";
import { archiveKey, ArchiveError, readArchive, restoreArchive } from "../rollup/archive";
import { retentionCutoff } from "../rollup/purge";
import { dayBounds } from "../rollup/days";
import { secretProblem, verifyToken } from "./realtime/token";

/** Matches `/api/archive/<site>`, `…/<YYYY-MM-DD>` and `…/<YYYY-MM-DD>/restore`. */
export const ARCHIVE_PATH = /^\/api\/archive\/([^/]+)(?:\/(\d{4}-\d{2}-\d{2})(\/restore)?)?$/;

/** What the archive token key is derived with: HMAC-SHA256(REALTIME_SECRET, this), as hex. */
export const ARCHIVE_TOKEN_CONTEXT = "941-analytics archive token v1";

/** The HMAC key of archive tokens, derived from the shared secret (see the module comment). */
export async function archiveTokenKey(secret: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(ARCHIVE_TOKEN_CONTEXT)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

interface SiteRow {
  id: string;
  domain: string;
  timezone: string;
  retention_days: number | null;
  database: string;
}

type Target = { site: SiteRow; day?: string; restore: boolean; bucket: R2Bucket; db: D1Database };

/** Checks secret, token, site and bucket; a Response when the request is refused. */
async function authorize(request: Request, env: Env): Promise<Target | Response> {
  const url = new URL(request.url);
  const match = ARCHIVE_PATH.exec(url.pathname);
  let siteId: string;
  try {
    siteId = decodeURIComponent(match?.[1] ?? "");
  } catch {
    return errorResponse(400, "bad_request", "the site in the path is not valid percent-encoding");
  }
  const weak = env.REALTIME_SECRET ? secretProblem(env.REALTIME_SECRET, url.hostname) : null;
  if (weak !== null) return errorResponse(503, "archive_misconfigured", `the archive routes are disabled: ${weak}`);
  if (!env.REALTIME_SECRET) return errorResponse(503, "archive_misconfigured", "REALTIME_SECRET is not set on this collector");
  const bearer = /^Bearer (\S+)$/.exec(request.headers.get("Authorization") ?? "")?.[1] ?? null;
  const check = await verifyToken(bearer, await archiveTokenKey(env.REALTIME_SECRET), siteId);
  if (!check.ok) {
    const status = check.reason === "token is for another site" ? 403 : 401;
    return errorResponse(status, status === 403 ? "forbidden" : "unauthorized", check.reason);
  }
  const site = await env.DB.prepare("SELECT id, domain, timezone, retention_days, database FROM sites WHERE id = ?").bind(siteId).first<SiteRow>();
  if (!site) return errorResponse(404, "unknown_site", `no site has the id ${JSON.stringify(siteId)}`);
  if (!env.ARCHIVE) return errorResponse(503, "archive_not_configured", "no ARCHIVE bucket is bound to the collector (wrangler.toml [[r2_buckets]])");
  let db: D1Database;
  try {
    db = databaseNamed(env, site.database);
  } catch (error) {
    if (error instanceof UnknownDatabase) return errorResponse(503, "database_unknown", `the site's data is in database ${error.binding}, which this collector has no binding for`);
    throw error;
  }
  return { site, day: match?.[2], restore: Boolean(match?.[3]), bucket: env.ARCHIVE, db };
}

/** GET /api/archive/:site[/:day]; see the module comment. */
export async function getArchive(request: Request, env: Env): Promise<Response> {
  const target = await authorize(request, env);
  if (target instanceof Response) return target;
  const { site, day, restore, bucket, db } = target;
  if (restore) return errorResponse(405, "method_not_allowed", "use POST", { Allow: "POST, OPTIONS" });
  if (day === undefined) {
    const { results } = await db
      .prepare("SELECT day, key, events, sessions, bytes, archived_at FROM raw_archives WHERE site_id = ? ORDER BY day")
      .bind(site.id)
      .all();
    return json({ site_id: site.id, domain: site.domain, archives: results });
  }
  const object = await bucket.get(archiveKey(site.id, day));
  if (!object) return errorResponse(404, "not_archived", `no archive of ${day}`);
  return new Response(object.body, {
    headers: {
      "Content-Type": "application/gzip",
      "Content-Length": String(object.size),
      "Content-Disposition": `attachment; filename="${site.id}-${day}.ndjson.gz"`,
      "Cache-Control": "no-store",
    },
  });
}

/** POST /api/archive/:site/:day/restore; see the module comment. */
export async function postArchive(request: Request, env: Env): Promise<Response> {
  const target = await authorize(request, env);
  if (target instanceof Response) return target;
  const { site, day, restore, bucket, db } = target;
  if (day === undefined || !restore) return errorResponse(405, "method_not_allowed", "use GET", { Allow: "GET, OPTIONS" });
  const cutoff = retentionCutoff(site.retention_days, site.timezone, Date.now());
  if (cutoff !== null && dayBounds(day, site.timezone)[0] < cutoff) {
    return errorResponse(409, "past_retention", `${day} is past the site's retention (${site.retention_days} days): the next purge would delete it again; raise or clear retention first`);
  }
  let archive;
  try {
    archive = await readArchive(bucket, archiveKey(site.id, day));
  } catch (error) {
    if (error instanceof ArchiveError || error instanceof SyntaxError) return errorResponse(422, "bad_archive", String(error.message));
    throw error;
  }
  if (!archive) return errorResponse(404, "not_archived", `no archive of ${day}`);
  if (archive.header.site_id !== site.id || archive.header.day !== day) return errorResponse(422, "bad_archive", "the file is another site-day's");
  const inserted = await restoreArchive(db, archive);
  return json({ day, ...inserted, archived: { events: archive.header.events, sessions: archive.header.sessions, web_vitals: archive.header.web_vitals ?? 0 } });
}
