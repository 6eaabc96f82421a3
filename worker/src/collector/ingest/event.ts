/**
 * The shape of an accepted, enriched event as the Worker hands it to the site's Durable Object.
 * Keys are the D1 column names, so the DO can write them without a mapping table.
 */
import type { Attribution } from "../../rows";

/** An accepted event, stamped and enriched by the Worker; visitor and session come from the DO. */
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
  /** Custom events are interactive unless the sender says otherwise; pageviews always are. */
  interactive: boolean;
  /** Engagement events only: cumulative engaged ms of the page they report on. */
  engaged_ms: number | null;
  /** Engagement events only: deepest scroll on that page, percent. */
  scroll_depth: number | null;
}

/** What the Worker knows about the sender and passes to the DO only for hashing. Never stored. */
export interface ClientInfo {
  ip: string;
  userAgent: string;
}
