/**
 * Enrichment: a validated payload plus request context -> the event columns. Pure except for
 * the id and timestamp the Worker stamps, which callers may pass in for deterministic tests.
 */
import { channelFor, clickId } from "../enrich/channel";
import { geoFromCf } from "../enrich/geo";
import { pagePath, paramSource, screenClass, utmTags } from "../enrich/page";
import { referrerInfo, stripWww } from "../enrich/referrer";
import { parseUserAgent } from "../enrich/user-agent";
import type { Site } from "../site-lookup";
import type { CollectedEvent } from "../../contract";
import type { EventPayload } from "./payload";
import { isSiteHost } from "./site-rules";
import { timeOrderedId } from "../../ids";
import { wellFormedEvent } from "./well-formed";

/** What enrichment reads from the request besides the payload. */
export interface RequestContext {
  userAgent: string;
  cf: Record<string, unknown> | undefined;
}

/**
 * Builds the stored event from a payload; `id` and `ts` default to a fresh time-ordered UUID and
 * now. Every text column comes out well-formed: a value cut to a length (referrer, UTM) may have
 * split a surrogate pair.
 */
export function enrichEvent(
  payload: EventPayload,
  site: Site,
  request: RequestContext,
  stamp: { id?: string; ts?: number } = {},
): CollectedEvent {
  const utm = utmTags(payload.url);
  const page = stripWww(payload.url.hostname);
  // Self-referrals: the page's own host, or any host of the site.
  const isOwnHost = (hostname: string) => stripWww(hostname) === page || isSiteHost(site, hostname);
  const { known, ...referrer } = referrerInfo(payload.referrer, isOwnHost, paramSource(payload.url, utm.utm_source));
  const click = clickId(payload.url);
  const source = referrer.source ?? click?.[1] ?? null;
  const ts = stamp.ts ?? Date.now();
  return wellFormedEvent({
    // Time-ordered (see ids.ts): appends to the events primary key instead of a random page.
    id: stamp.id ?? timeOrderedId(ts),
    ts,
    site_id: site.id,
    name: payload.name,
    hostname: payload.url.hostname,
    pathname: pagePath(payload.url, payload.hashMode),
    referrer: referrer.referrer,
    source,
    channel: channelFor({ source, known, utmMedium: utm.utm_medium, click }),
    ...utm,
    ...geoFromCf(request.cf),
    ...parseUserAgent(request.userAgent),
    screen: screenClass(payload.screenWidth),
    props: payload.props ? JSON.stringify(payload.props) : null,
    revenue: payload.revenue,
    revenue_currency: payload.revenueCurrency,
    // A pageview is always an interaction; custom events may opt out (e.g. scroll-depth pings),
    // and an engagement or web vitals report never is one (engaged time has its own bounce rule).
    interactive: payload.name === "pageview" || (payload.interactive && payload.engagedMs === null && payload.scrollDepth === null && payload.vitals === null),
    engaged_ms: payload.engagedMs,
    scroll_depth: payload.scrollDepth,
    vitals: payload.vitals?.vitals ?? null,
    view_age_ms: payload.vitals?.ageMs ?? null,
    page_title: payload.title,
    language: payload.language,
  });
}
