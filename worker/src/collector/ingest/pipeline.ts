/**
 * The write path as a pipeline of named steps, after Plausible's ingestion/event.ex:
 * read_body -> parse_payload -> put_site -> check_origin -> filter_bot -> check_excluded ->
 * enrich -> scrub_pii -> register_session. Each step returns the value the next one needs or a typed `Drop`;
 * the first drop ends the pipeline and is counted (drop-counter.ts), under the site when the
 * site is known and under "" before that.
 */
import { botCategory } from "../enrich/bot";
import type { Env } from "../../env";
import { numberVar } from "../../vars";
import { DEFAULT_RATE_LIMIT_IP, DEFAULT_RATE_LIMIT_SITE } from "../../site-do/rate-limit";
import { lookupSite, type Site } from "../site-lookup";
import { countDrop, scheduleDropFlush } from "./drop-counter";
import { type Drop, drop, isDrop } from "./drop";
import { enrichEvent } from "./enrich";
import type { ClientInfo, CollectedEvent, IngestResult } from "../../contract";
import { type EventPayload, parsePayload } from "./payload";
import { readBody } from "./read-body";
import { scrubEvent } from "./scrub";
import { isExcludedPath, isSiteHost } from "./site-rules";

/** The outcome of an accepted event. */
export interface Accepted {
  readonly dropped: false;
  readonly event: CollectedEvent;
  readonly visitorId: string | null;
  readonly sessionId: string | null;
}

/** Runs an event request through every ingestion step, counting the drop if there is one. */
export async function ingestRequest(request: Request, env: Env, ctx: Pick<ExecutionContext, "waitUntil">): Promise<Accepted | Drop> {
  const state: { site: Site | null } = { site: null };
  const outcome = await runSteps(request, env, state);
  if (isDrop(outcome)) {
    countDrop(state.site?.id ?? "", outcome);
    scheduleDropFlush(env.DB, ctx, numberVar(env.DROP_FLUSH_DELAY_MS, 1000));
  }
  return outcome;
}

async function runSteps(request: Request, env: Env, state: { site: Site | null }): Promise<Accepted | Drop> {
  const text = await readBody(request);
  if (isDrop(text)) return text;

  const payload = parsePayload(text);
  if (isDrop(payload)) return payload;

  const site = await putSite(env, payload.domain);
  if (isDrop(site)) return site;
  state.site = site;

  const origin = checkOrigin(site, payload);
  if (isDrop(origin)) return origin;

  const client = clientInfo(request);
  const bot = filterBot(client.userAgent);
  if (isDrop(bot)) return bot;

  const excluded = checkExcluded(site, payload);
  if (isDrop(excluded)) return excluded;

  const enriched = enrichEvent(payload, site, {
    userAgent: client.userAgent,
    cf: request.cf as Record<string, unknown> | undefined,
  });
  // After enrichment, which reads the page URL's click ids and the referrer's path; before
  // anything is stored.
  const event = scrubEvent(enriched, site);

  const registered = await registerSession(env, site, event, client);
  if (isDrop(registered)) return registered;
  return { dropped: false, event, visitorId: registered.visitorId, sessionId: registered.sessionId };
}

/**
 * register_session: the site's DO assigns visitor and session, applies the rate limits (per
 * visitor, per IP, per site: docs/collector.md), and puts
 * the event in its outbox before it returns, so a 202 always means "stored durably". A failed
 * RPC or DO storage write (overload, a reset during a deploy, a storage error) means the event
 * was not stored: a counted `unavailable` drop (503, the sender may retry), never a bare 500.
 */
async function registerSession(env: Env, site: Site, event: CollectedEvent, client: ClientInfo): Promise<IngestResult | Drop> {
  try {
    const stub = env.SITE_DO.get(siteObjectId(env.SITE_DO, site.id));
    return await stub.ingest(event, client, {
      rateLimitVisitor: site.rateLimitVisitor,
      rateLimitIp: numberVar(env.RATE_LIMIT_IP, DEFAULT_RATE_LIMIT_IP),
      // A site's own limit (> 0) wins; 0 means "not set": the collector's default applies.
      rateLimitSite: site.rateLimitSite > 0 ? site.rateLimitSite : numberVar(env.RATE_LIMIT_SITE_DEFAULT, DEFAULT_RATE_LIMIT_SITE),
      bounceThresholdMs: site.bounceThresholdMs,
      database: site.database,
    });
  } catch (error) {
    console.error("site durable object failed", error);
    return drop("unavailable", "event storage is temporarily unavailable; retry later");
  }
}

// Durable Object ids per site name, per isolate: idFromName hashes the name on every call, and
// an id (unlike a stub, which belongs to its request) may be kept. Keyed by namespace too, since
// tests run several environments in one isolate.
const objectIds = new WeakMap<DurableObjectNamespace, Map<string, DurableObjectId>>();

function siteObjectId(namespace: DurableObjectNamespace, siteId: string): DurableObjectId {
  let ids = objectIds.get(namespace);
  if (!ids) objectIds.set(namespace, (ids = new Map()));
  let id = ids.get(siteId);
  if (!id) {
    if (ids.size >= 10_000) ids.clear();
    ids.set(siteId, (id = namespace.idFromName(siteId)));
  }
  return id;
}

async function putSite(env: Env, domain: string): Promise<Site | Drop> {
  let site;
  try {
    site = await lookupSite(env.DB, domain, numberVar(env.SITE_CACHE_TTL_S, 60));
  } catch (error) {
    console.error("site lookup failed", error);
    return drop("unavailable", "site lookup is temporarily unavailable");
  }
  return site ?? drop("unknown_site", `no site is registered for domain ${JSON.stringify(domain)}`);
}

/** check_origin: the page's hostname must be one of the site's hosts. */
function checkOrigin(site: Site, payload: EventPayload): true | Drop {
  if (isSiteHost(site, payload.url.hostname)) return true;
  return drop("wrong_origin", `hostname ${JSON.stringify(payload.url.hostname)} is not one of the site's domains`);
}

/** filter_bot: crawlers, monitors, previews, headless browsers and HTTP libraries. */
function filterBot(userAgent: string): true | Drop {
  const category = botCategory(userAgent);
  return category === null ? true : drop("bot", "bot traffic is not counted", category);
}

/** check_excluded: paths the owner chose not to count (site setting excluded_paths). */
function checkExcluded(site: Site, payload: EventPayload): true | Drop {
  return isExcludedPath(site, payload.url.pathname) ? drop("excluded", "this page is excluded from counting") : true;
}

/**
 * The sender's IP and user agent, used only to compute the visitor hash. CF-Connecting-IP is
 * set by Cloudflare's edge; X-Forwarded-For and loopback are local-development fallbacks.
 */
export function clientInfo(request: Request): ClientInfo {
  const forwarded = request.headers.get("X-Forwarded-For")?.split(",")[0]?.trim();
  return {
    ip: request.headers.get("CF-Connecting-IP") || forwarded || "127.0.0.1",
    userAgent: request.headers.get("User-Agent") ?? "",
  };
}
