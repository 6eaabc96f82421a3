/**
 * The D1 rows the collector writes: the column names of `events` and `sessions` in schema order,
 * and the row types derived from them. Data only, no logic; test/rows.test.ts checks the lists
 * against the migrated schema.
 */

/** The value type of each column, by name: a name means the same thing in every table. */
interface ColumnTypes {
  id: string;
  site_id: string;
  visitor_id: string;
  session_id: string;
  ts: number;
  name: string;
  hostname: string;
  pathname: string;
  referrer: string | null;
  source: string | null;
  channel: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  country: string | null;
  region: string | null;
  city: string | null;
  device: string | null;
  browser: string | null;
  browser_version: string | null;
  os: string | null;
  os_version: string | null;
  screen: string | null;
  /** The visitor's IANA timezone from request.cf. */
  timezone: string | null;
  /** Flat string-valued props as JSON text, or null. */
  props: string | null;
  revenue: number | null;
  engaged_ms: number | null;
  scroll_depth: number | null;
  started_at: number;
  ended_at: number;
  entry_page: string;
  exit_page: string;
  pageviews: number;
  events: number;
  duration_ms: number;
  is_bounce: 0 | 1;
}

/** Session-level attribution, in schema order: taken from a session's first event and copied onto every event. */
export const ATTRIBUTION_COLUMNS = [
  "referrer", "source", "channel",
  "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
  "country", "region", "city",
  "device", "browser", "browser_version", "os", "os_version", "screen", "timezone",
] as const;

/** `events` columns, in schema order. */
export const EVENT_COLUMNS = [
  "id", "site_id", "ts", "name", "visitor_id", "session_id", "hostname", "pathname",
  "referrer", "source", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
  "country", "region", "city", "device", "browser", "browser_version", "os", "os_version", "screen",
  "props", "revenue", "engaged_ms", "scroll_depth", "timezone",
] as const;

/** `sessions` columns, in schema order. */
export const SESSION_COLUMNS = [
  "id", "site_id", "visitor_id", "started_at", "ended_at", "hostname", "entry_page", "exit_page",
  "pageviews", "events", "duration_ms", "is_bounce",
  "referrer", "source", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
  "country", "region", "city", "device", "browser", "browser_version", "os", "os_version", "screen", "timezone",
] as const;

export type Attribution = Pick<ColumnTypes, (typeof ATTRIBUTION_COLUMNS)[number]>;
/** An `events` row in D1. */
export type EventRow = Pick<ColumnTypes, (typeof EVENT_COLUMNS)[number]>;
/** A `sessions` row in D1. */
export type SessionRow = Pick<ColumnTypes, (typeof SESSION_COLUMNS)[number]>;
