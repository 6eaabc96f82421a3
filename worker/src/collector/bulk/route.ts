/**
 * POST /api/ingest/bulk: events a server sends for its visitors, up to 1,000 a request, each
 * with its own time, IP, user agent and idempotency key (docs/bulk-ingestion.md).
 *
 * The request is refused as a whole only for what the sender must fix: 401 without a live
 * token, 403 without the `ingest` scope or for an event of a site the token does not cover
 * (checked before anything is stored), 400 for a malformed envelope, 413 past MAX_BULK_BYTES.
 * Otherwise 202 with one result per event, in the request's order. Each event runs the
 * browser path's steps (check_origin, filter_bot, check_excluded, enrich, scrub_pii, then the
 * site's DO for the visitor hash, session and rate limits) and its drops are counted the same
 * way; geo stays empty, as Cloudflare locates the connection (the server), not the visitor.
 */
import type { Env } from "../../env";
import { json, errorResponse } from "../../http";
import { numberVar } from "../../vars";
import { DEFAULT_RATE_LIMIT_IP, DEFAULT_RATE_LIMIT_SITE } from "../../site-do/rate-limit";
import { BULK_FUTURE_SKEW_MS, BULK_PAST_WINDOW_MS, type BulkItem, type BulkOutcome } from "../../site-do/bulk-keys";
import { countDrop, scheduleDropFlush } from "../ingest/drop-counter";
import { type Drop, isDrop } from "../ingest/drop";
import { enrichEvent } from "../ingest/enrich";
import { type IdentityDropped, putIdentity } from "../ingest/identity";
import { checkExcluded, checkOrigin, filterBot } from "../ingest/pipeline";
import { readBody } from "../ingest/read-body";
import { scrubEvent } from "../ingest/scrub";
import { lookupSite, type Site } from "../site-lookup";
import { MAX_BULK_BYTES, parseBulkEvent, parseEnvelope, type BulkEvent } from "./parse";
import { bearerSecret, findToken, touchToken } from "./token";

export const BULK_PATH = "/api/ingest/bulk";

/** One event's result in the answer. */
export interface BulkResult {
  index: number;
  idempotency_key: string | null;
  outcome: BulkOutcome["outcome"] | "too_old" | "too_new";
  message?: string;
  /** The event was counted without its `user_id`, for this reason (ingest/identity.ts). */
  identity_dropped?: IdentityDropped;
}

/** The handler; see the module comment. */
export async function postBulk(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const secret = bearerSecret(request);
  if (secret === null) return errorResponse(401, "unauthorized", "send an API token as Authorization: Bearer <token>");
  let token;
  try {
    token = await findToken(env.DB, secret);
  } catch (error) {
    console.error("token lookup failed", error);
    return unavailable();
  }
  if (token === null) return errorResponse(401, "invalid_token", "this API token is not valid or was revoked");
  if (!token.scopes.includes("ingest")) return errorResponse(403, "insufficient_scope", "this API token lacks the ingest scope");

  const text = await readBody(request, MAX_BULK_BYTES);
  if (isDrop(text)) return errorResponse(text.status, text.reason, text.message);
  const envelope = parseEnvelope(text);
  if (typeof envelope === "string") return errorResponse(400, "invalid", envelope);

  const parsed = envelope.map(parseBulkEvent);
  const sites = new Map<string, Site>();
  for (const domain of new Set(parsed.flatMap((event) => (isDrop(event) ? [] : [event.domain])))) {
    let site;
    try {
      site = await lookupSite(env.DB, domain, numberVar(env.SITE_CACHE_TTL_S, 60));
    } catch (error) {
      console.error("site lookup failed", error);
      return unavailable();
    }
    // An unknown domain is refused like a foreign one: the answer must not tell which exist.
    if (!site || !token.siteIds.includes(site.id)) {
      return errorResponse(403, "site_not_allowed", `this API token does not cover domain ${JSON.stringify(domain)}`);
    }
    sites.set(domain, site);
  }
  ctx.waitUntil(touchToken(env.DB, token.id, Date.now()).catch(() => {}));

  const results: BulkResult[] = [];
  // By site id: two domains of one site (aliases) are one DO call, in one time order.
  const bySite = new Map<string, { site: Site; list: { index: number; item: BulkItem }[] }>();
  const now = Date.now();
  const counted = (siteId: string, dropped: Drop) => {
    countDrop(siteId, dropped);
    scheduleDropFlush(env.DB, ctx, numberVar(env.DROP_FLUSH_DELAY_MS, 1000));
  };
  const identityDropped = new Map<number, IdentityDropped>();
  parsed.forEach((event, index) => {
    const keyOf = isDrop(event) ? keyIn(envelope[index]) : event.key;
    const result = (outcome: BulkResult["outcome"], message?: string) => {
      results[index] = { index, idempotency_key: keyOf, outcome, ...(message ? { message } : {}) };
    };
    if (isDrop(event)) return result(event.reason, event.message);
    const site = sites.get(event.domain) as Site;
    if (event.ts < now - BULK_PAST_WINDOW_MS) return result("too_old", "timestamp is more than 24 hours in the past");
    if (event.ts > now + BULK_FUTURE_SKEW_MS) return result("too_new", "timestamp is more than 5 minutes in the future");
    const stepped = browserSteps(site, event);
    if (isDrop(stepped)) {
      counted(site.id, stepped);
      return result(stepped.reason, stepped.message);
    }
    if (stepped.dropped) identityDropped.set(index, stepped.dropped);
    const group = bySite.get(site.id) ?? { site, list: [] };
    group.list.push({ index, item: { event: stepped.event, client: { ip: event.ip, userAgent: event.userAgent }, key: event.key } });
    bySite.set(site.id, group);
  });

  await Promise.all([...bySite.values()].map(async ({ site, list }) => {
    // In time order, so a visitor's events build its visits as they happened.
    list.sort((a, b) => a.item.event.ts - b.item.event.ts || a.index - b.index);
    let outcomes: BulkOutcome[];
    try {
      const stub = env.SITE_DO.get(env.SITE_DO.idFromName(site.id));
      outcomes = await stub.ingestBulk(list.map(({ item }) => item), settingsOf(env, site));
    } catch (error) {
      console.error("site durable object failed (bulk)", error);
      outcomes = list.map(() => ({ outcome: "unavailable", message: "event storage is temporarily unavailable; retry later" }));
    }
    list.forEach(({ index, item }, i) => {
      const { outcome, message } = outcomes[i] ?? { outcome: "unavailable" };
      const dropped = outcome === "accepted" ? identityDropped.get(index) : undefined;
      results[index] = { index, idempotency_key: item.key, outcome, ...(message ? { message } : {}), ...(dropped ? { identity_dropped: dropped } : {}) };
    });
  }));
  const accepted = results.filter((result) => result.outcome === "accepted").length;
  return json({ accepted, results }, 202);
}

/** check_origin, filter_bot, check_excluded, enrich, put_identity and scrub_pii, as for /api/event. */
function browserSteps(site: Site, event: BulkEvent) {
  const origin = checkOrigin(site, event.payload);
  if (isDrop(origin)) return origin;
  const bot = filterBot(event.userAgent);
  if (isDrop(bot)) return bot;
  const excluded = checkExcluded(site, event.payload);
  if (isDrop(excluded)) return excluded;
  const enriched = enrichEvent(event.payload, site, { userAgent: event.userAgent, cf: undefined }, { ts: event.ts });
  // No returning flag from a server: it describes a browser's storage.
  const { identity, dropped } = putIdentity(site, event.payload);
  return { event: scrubEvent({ ...enriched, identity, returning: null }, site), dropped };
}

function settingsOf(env: Env, site: Site) {
  return {
    rateLimitVisitor: site.rateLimitVisitor,
    rateLimitIp: numberVar(env.RATE_LIMIT_IP, DEFAULT_RATE_LIMIT_IP),
    rateLimitSite: site.rateLimitSite > 0 ? site.rateLimitSite : numberVar(env.RATE_LIMIT_SITE_DEFAULT, DEFAULT_RATE_LIMIT_SITE),
    bounceThresholdMs: site.bounceThresholdMs,
    database: site.database,
  };
}

/** Nothing was stored: the sender retries the whole request. */
function unavailable(): Response {
  return errorResponse(503, "unavailable", "event storage is temporarily unavailable; retry later");
}

/** The idempotency key of an event that failed its checks, when it has a usable one. */
function keyIn(value: unknown): string | null {
  const key = typeof value === "object" && value !== null ? (value as Record<string, unknown>).idempotency_key : null;
  return typeof key === "string" && key.length <= 200 ? key : null;
}
