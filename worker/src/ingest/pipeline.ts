/**
 * The write path as a pipeline of named steps, after Plausible's ingestion/event.ex:
 * read_body -> parse_payload -> put_site -> enrich -> register_session. Each step returns the
 * value the next one needs or a typed `Drop`; the first drop ends the pipeline.
 */
import { numberVar, type Env } from "../env";
import { lookupSite } from "../site-lookup";
import { type Drop, drop, isDrop } from "./drop";
import { enrichEvent } from "./enrich";
import type { CollectedEvent, ClientInfo } from "./event";
import { parsePayload } from "./payload";
import { readBody } from "./read-body";

/** The outcome of an accepted event. */
export interface Accepted {
  readonly dropped: false;
  readonly event: CollectedEvent;
  readonly visitorId: string;
  readonly sessionId: string;
}

/** Runs an event request through every ingestion step. */
export async function ingestRequest(request: Request, env: Env): Promise<Accepted | Drop> {
  const text = await readBody(request);
  if (isDrop(text)) return text;

  const payload = parsePayload(text);
  if (isDrop(payload)) return payload;

  const site = await putSite(env, payload.domain);
  if (isDrop(site)) return site;

  const client = clientInfo(request);
  const event = enrichEvent(payload, site, {
    userAgent: client.userAgent,
    cf: request.cf as Record<string, unknown> | undefined,
  });

  // register_session: the site's DO assigns visitor and session and puts the event in its
  // outbox before it returns, so a 202 always means "stored durably".
  const stub = env.SITE_DO.get(env.SITE_DO.idFromName(site.id));
  const { visitorId, sessionId } = await stub.ingest(event, client);
  return { dropped: false, event, visitorId, sessionId };
}

async function putSite(env: Env, domain: string) {
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
