/**
 * What crosses the RPC boundary between the Worker and the site's Durable Object: the arguments
 * and results of SiteDO's methods. Types only, so each side imports this instead of the other.
 */
import type { Attribution } from "./rows";
import type { DropReason } from "./words";

/**
 * An accepted event, stamped and enriched by the Worker; visitor and session come from the DO.
 * Keys are the D1 column names, so the DO writes them without a mapping table.
 */
export interface CollectedEvent extends Attribution {
  /** Random UUID stamped by the Worker; the outbox flush is idempotent on it. */
  id: string;
  /** Unix ms stamped by the Worker; sessions measure inactivity on it. */
  ts: number;
  site_id: string;
  name: string;
  hostname: string;
  pathname: string;
  /** Flat string-valued props as JSON text, or null. */
  props: string | null;
  revenue: number | null;
  /** ISO 4217 code of `revenue`, or null (migration 0024). */
  revenue_currency: string | null;
  /** Custom events are interactive unless the sender says otherwise; pageviews always are. */
  interactive: boolean;
  /** Engagement events only: cumulative engaged ms of the page they report on. */
  engaged_ms: number | null;
  /** Engagement events only: deepest scroll on that page, percent. */
  scroll_depth: number | null;
  /** Web vitals reports only (not an `events` column): the page view's values so far. */
  vitals?: Vitals | null;
  /** Web vitals reports only: how long ago (ms) the view's pageview was sent, when told. */
  view_age_ms?: number | null;
  /** Pageviews only (not an `events` column): the page's title, kept per path in `page_titles`. */
  page_title?: string | null;
  /** The browser's language (not an `events` column): a visit keeps its first one. */
  language?: string | null;
  /** The region's ISO 3166-2 code, `DE-BE` (not an `events` column): a visit keeps its first one. */
  region_code?: string | null;
  /** identify(), only when the site has identity on (not a column: the DO stores the id's keyed hash). */
  identity?: EventIdentity | null;
  /** The returning add-on's flag, only when the site has it on (not an `events` column): a visit keeps its first. */
  returning?: boolean | null;
}

/**
 * identify() as it reaches the DO: the id as the site sent it, which the DO hashes under the
 * site's secret (site-do/user-hash.ts) and never stores, and the site's declared traits (scrubbed).
 */
export interface EventIdentity {
  id: string;
  /** [key, value] pairs under declared keys only (pairs, not an object: a key may be "__proto__"); null when none. */
  traits: [string, string][] | null;
}

/**
 * A page view's Core Web Vitals as stored in D1's `web_vitals` (migration 0019): times in whole
 * ms, CLS in ten-thousandths; null where the report has no value.
 */
export interface Vitals {
  lcp_ms: number | null;
  inp_ms: number | null;
  cls_e4: number | null;
  fcp_ms: number | null;
  ttfb_ms: number | null;
}

/** What the Worker knows about the sender and passes to the DO only for hashing. Never stored. */
export interface ClientInfo {
  ip: string;
  userAgent: string;
}

/** What `ingest` tells the Worker about an accepted event (null ids: an engagement report with no session to update). */
export interface IngestResult {
  visitorId: string | null;
  sessionId: string | null;
}

/** The site settings the DO applies, passed by the Worker from its cached site row. */
export interface SiteSettings {
  /** Events per minute per visitor hash; 0 = no limit. */
  rateLimitVisitor: number;
  /** Events per minute per client IP (IPv6: per /64); 0 = no limit. */
  rateLimitIp: number;
  /** Events per minute for the site; 0 = no limit. */
  rateLimitSite: number;
  bounceThresholdMs: number;
  /** The D1 binding holding the site's data (`sites.database`): where the outbox is flushed. */
  database: string;
}

/** A dropped event: the reason, its HTTP status and a message for the sender. */
export interface Drop {
  readonly dropped: true;
  readonly reason: DropReason;
  readonly status: number;
  readonly message: string;
  /** For `bot` drops: the bot category (see enrich/bot.ts); "" otherwise. */
  readonly category: string;
}

/** The dimensions of the realtime top lists. */
export type Dimension = "page" | "source" | "country" | "device";

/** One item of the event feed. */
export interface FeedItem {
  name: string;
  path: string;
  country: string | null;
  ts: number;
}

/** What a dashboard is shown: the full state (snapshot) or, pushed after events, with only the new feed items. */
export interface RealtimeSnapshot {
  /** Server time the figures are computed for (ms). */
  now: number;
  /** Distinct visitors seen in the last 5 minutes. */
  visitors: number;
  /** Pageviews per minute, oldest first; the last entry is the current minute. */
  minutes: number[];
  /** Top pages, sources, countries and devices of the last 5 minutes, as [name, count], busiest first. */
  top: Record<Dimension, [string, number][]>;
  /** Recent events, newest first. */
  events: FeedItem[];
}
