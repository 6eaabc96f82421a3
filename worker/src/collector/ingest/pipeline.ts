/**
 * The write path as a pipeline of named steps, after Plausible's ingestion/event.ex:
 * read_body -> parse_payload -> put_site -> check_origin -> filter_bot -> check_excluded ->
 * enrich -> put_identity -> scrub_pii -> register_session. Each step returns the value the next one needs or a typed `Drop`;
 * the first drop ends the pipeline and is counted (drop-counter.ts), under the site when the
 * site is known and under "" before that. An event sent to several sites (`domain:
 * "a.test,b.test"`) runs the steps from put_site on once per site, each with its own outcome.
 */
import { botCategory } from "../enrich/bot";
import { requestGeoFields } from "../enrich/geo";
import type { Env } from "../../env";
import { numberVar } from "../../vars";
import { DEFAULT_RATE_LIMIT_IP, DEFAULT_RATE_LIMIT_SITE } from "../../site-do/rate-limit";
import { lookupSite, type Site } from "../site-lookup";
import { countDrop, scheduleDropFlush } from "./drop-counter";
import { type Drop, drop, isDrop } from "./drop";
import { enrichEvent } from "./enrich";
import { type IdentityDropped, putIdentity } from "./identity";
import type { ClientInfo, CollectedEvent, IngestResult } from "../../contract";
import { type EventPayload, isWebUrl, parsePayload } from "./payload";
import { readBody } from "./read-body";
import { readAnswer } from "../../site-do/ingest-answer";
import { scrubEvent } from "./scrub";
import { isExcludedPath, isSiteHost } from "./site-rules";

/** The outcome of an accepted event. */
export interface Accepted {
  readonly dropped: false;
  readonly event: CollectedEvent;
  readonly visitorId: string | null;
  readonly sessionId: string | null;
  /** The event was counted without its identify() id, for this reason (identity.ts). */
  readonly identityDropped: IdentityDropped | null;
}

/** What happened to an event at one site. */
export type Outcome = Accepted | Drop;

/**
 * Runs an event request through every ingestion step, counting each drop. One outcome per site
 * the event is sent to; a single drop when the request itself is malformed.
 */
export async function ingestRequest(request: Request, env: Env, ctx: Pick<ExecutionContext, "waitUntil">): Promise<Outcome[]> {
  const counted = (siteId: string, outcome: Outcome): Outcome => {
    if (isDrop(outcome)) {
      countDrop(siteId, outcome);
      scheduleDropFlush(env.DB, ctx, numberVar(env.DROP_FLUSH_DELAY_MS, 1000));
    }
    return outcome;
  };
  const text = await readBody(request);
  const payload = isDrop(text) ? text : parsePayload(text);
  if (isDrop(payload)) return [counted("", payload)];
  const client = clientInfo(request);
  return Promise.all(
    payload.domains.map(async (domain) => {
      const state: { site: Site | null } = { site: null };
      const outcome = await runSiteSteps(env, request, payload, domain, client, state);
      return counted(state.site?.id ?? "", outcome);
    }),
  );
}

async function runSiteSteps(
  env: Env,
  request: Request,
  payload: EventPayload,
  domain: string,
  client: ClientInfo,
  state: { site: Site | null },
): Promise<Outcome> {
  const site = await putSite(env, domain);
  if (isDrop(site)) return site;
  state.site = site;

  const origin = checkOrigin(site, payload);
  if (isDrop(origin)) return origin;

  const bot = filterBot(client.userAgent);
  if (isDrop(bot)) return bot;

  const excluded = checkExcluded(site, payload);
  if (isDrop(excluded)) return excluded;

  const enriched = enrichEvent(payload, site, {
    userAgent: client.userAgent,
    cf: requestGeoFields(request, env),
  });
  // What the site allows of identify() and the returning flag (off by default, per site).
  const { identity, returning, dropped } = putIdentity(site, payload);
  // After enrichment, which reads the page URL's click ids and the referrer's path; before
  // anything is stored.
  const event = scrubEvent({ ...enriched, identity, returning }, site);

  const registered = await registerSession(env, site, event, client);
  if (isDrop(registered)) return registered;
  return { dropped: false, event, visitorId: registered.visitorId, sessionId: registered.sessionId, identityDropped: dropped };
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
    return readAnswer(await stub.ingest(event, client, {
      rateLimitVisitor: site.rateLimitVisitor,
      rateLimitIp: numberVar(env.RATE_LIMIT_IP, DEFAULT_RATE_LIMIT_IP),
      // A site's own limit (> 0) wins; 0 means "not set": the collector's default applies.
      rateLimitSite: site.rateLimitSite > 0 ? site.rateLimitSite : numberVar(env.RATE_LIMIT_SITE_DEFAULT, DEFAULT_RATE_LIMIT_SITE),
      bounceThresholdMs: site.bounceThresholdMs,
      database: site.database,
    }));
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

/**
 * check_origin: a web page's hostname must be one of the site's hosts. An app's URL
 * (`app://localhost/…`, what server-side and mobile clients send) names no web origin to check.
 */
export function checkOrigin(site: Site, payload: EventPayload): true | Drop {
  if (!isWebUrl(payload.url) || isSiteHost(site, payload.url.hostname)) return true;
  return drop("wrong_origin", `hostname ${JSON.stringify(payload.url.hostname)} is not one of the site's domains`);
}

/** filter_bot: crawlers, monitors, previews, headless browsers and HTTP libraries. */
export function filterBot(userAgent: string): true | Drop {
  const category = botCategory(userAgent);
  return category === null ? true : drop("bot", "bot traffic is not counted", category);
}

/** check_excluded: paths the owner chose not to count (site setting excluded_paths). */
export function checkExcluded(site: Site, payload: EventPayload): true | Drop {
  return isExcludedPath(site, payload.url.pathname) ? drop("excluded", "this page is excluded from counting") : true;
}

/**
 * The visitor's IP and user agent, used only for the visitor hash and the per-address rate
 * limit. The leftmost X-Forwarded-For address wins (Plausible's rule): a backend or proxy
 * relaying events names the visitor there, while CF-Connecting-IP is whoever opened the
 * connection — that backend. Without a usable X-Forwarded-For, CF-Connecting-IP; loopback in
 * local development. Anyone can set the header: docs/collector.md weighs that.
 */
export function clientInfo(request: Request): ClientInfo {
  return {
    ip: forwardedFor(request.headers.get("X-Forwarded-For")) ?? (request.headers.get("CF-Connecting-IP") || "127.0.0.1"),
    userAgent: request.headers.get("User-Agent") ?? "",
  };
}

/** The leftmost X-Forwarded-For entry when it is an IP address (a port or brackets removed), else null. */
export function forwardedFor(header: string | null): string | null {
  const first = header?.split(",")[0]?.trim() ?? "";
  const address = first.replace(/^\[(.*)\](?::\d+)?$/, "$1").replace(/^(\d+\.\d+\.\d+\.\d+):\d+$/, "$1");
  const ipv4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
  // Hex groups, at least two colons (`::1`), an IPv4 tail allowed (`::ffff:192.0.2.1`).
  const ipv6 = /^(?=(?:[^:]*:){2})[0-9a-f:.]{2,45}$/i;
  return ipv4.test(address) || ipv6.test(address) ? address : null;
}
