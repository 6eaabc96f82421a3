/**
 * Enrichment: a validated payload plus request context -> the event columns. Pure except for
 * the id and timestamp the Worker stamps, which callers may pass in for deterministic tests.
 */
import { geoFromCf } from "../enrich/geo";
import { screenClass, utmTags } from "../enrich/page";
import { referrerInfo } from "../enrich/referrer";
import { parseUserAgent } from "../enrich/user-agent";
import type { Site } from "../site-lookup";
import type { CollectedEvent } from "./event";
import type { EventPayload } from "./payload";

/** What enrichment reads from the request besides the payload. */
export interface RequestContext {
  userAgent: string;
  cf: Record<string, unknown> | undefined;
}

/** Builds the stored event from a payload; `id` and `ts` default to a fresh UUID and now. */
export function enrichEvent(
  payload: EventPayload,
  site: Site,
  request: RequestContext,
  stamp: { id?: string; ts?: number } = {},
): CollectedEvent {
  const utm = utmTags(payload.url);
  return {
    id: stamp.id ?? crypto.randomUUID(),
    ts: stamp.ts ?? Date.now(),
    site_id: site.id,
    name: payload.name,
    hostname: payload.url.hostname,
    pathname: payload.url.pathname,
    ...referrerInfo(payload.referrer, payload.url, utm.utm_source),
    ...utm,
    ...geoFromCf(request.cf),
    ...parseUserAgent(request.userAgent),
    screen: screenClass(payload.screenWidth),
    props: payload.props ? JSON.stringify(payload.props) : null,
    revenue: payload.revenue,
    // A pageview is always an interaction; custom events may opt out (e.g. scroll-depth pings).
    interactive: payload.name === "pageview" || payload.interactive,
  };
}
