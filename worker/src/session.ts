/**
 * Session rules, as pure functions: when an event continues a visit or starts a new one, and
 * how the visit's counters change. The SiteDO persists the result; nothing here does I/O.
 */
import { ATTRIBUTION_COLUMNS, type Attribution, type CollectedEvent } from "./ingest/event";

/** A visit ends after this long without events (measured on event timestamps). */
export const SESSION_TIMEOUT_MS = 30 * 60 * 1000;

/** A `sessions` row in D1 (schema.sql). */
export interface SessionRow extends Attribution {
  id: string;
  site_id: string;
  visitor_id: string;
  started_at: number;
  ended_at: number;
  hostname: string;
  entry_page: string;
  exit_page: string;
  pageviews: number;
  events: number;
  duration_ms: number;
  is_bounce: 0 | 1;
}

/** The DO's working copy of a session: the D1 row plus what the bounce rule needs. */
export interface LiveSession extends SessionRow {
  /** An interactive custom event happened, so the visit is not a bounce. */
  interacted: boolean;
}

/** An `events` row in D1 (schema.sql). */
export interface EventRow extends Attribution {
  id: string;
  site_id: string;
  ts: number;
  name: string;
  visitor_id: string;
  session_id: string;
  hostname: string;
  pathname: string;
  props: string | null;
  revenue: number | null;
  engaged_ms: number | null;
}

/** True when `event` belongs to `session`: same visitor and within the inactivity timeout. */
export function continues(session: LiveSession | null, event: CollectedEvent): session is LiveSession {
  return session !== null && event.ts - session.ended_at <= SESSION_TIMEOUT_MS;
}

/**
 * Applies an event to the visitor's current session, starting a new one when there is none or
 * it timed out. A new session takes its attribution from this, its first event.
 */
export function applyEvent(current: LiveSession | null, event: CollectedEvent, visitorId: string): LiveSession {
  const isPageview = event.name === "pageview";
  if (!continues(current, event)) {
    const attribution = Object.fromEntries(ATTRIBUTION_COLUMNS.map((column) => [column, event[column]])) as unknown as Attribution;
    const interacted = !isPageview && event.interactive;
    return {
      ...attribution,
      id: crypto.randomUUID(),
      site_id: event.site_id,
      visitor_id: visitorId,
      started_at: event.ts,
      ended_at: event.ts,
      hostname: event.hostname,
      entry_page: event.pathname,
      exit_page: event.pathname,
      pageviews: isPageview ? 1 : 0,
      events: isPageview ? 0 : 1,
      duration_ms: 0,
      interacted,
      is_bounce: bounce(isPageview ? 1 : 0, interacted),
    };
  }
  const pageviews = current.pageviews + (isPageview ? 1 : 0);
  const interacted = current.interacted || (!isPageview && event.interactive);
  // Events can arrive slightly out of order (two tabs); the visit spans the earliest to the latest.
  const started_at = Math.min(current.started_at, event.ts);
  const ended_at = Math.max(current.ended_at, event.ts);
  const latest = event.ts >= current.ended_at;
  return {
    ...current,
    started_at,
    ended_at,
    exit_page: isPageview && latest ? event.pathname : current.exit_page,
    pageviews,
    events: current.events + (isPageview ? 0 : 1),
    duration_ms: ended_at - started_at,
    interacted,
    is_bounce: bounce(pageviews, interacted),
  };
}

/** The `events` row for an event in a session: attribution comes from the session. */
export function eventRow(event: CollectedEvent, session: SessionRow): EventRow {
  const attribution = Object.fromEntries(ATTRIBUTION_COLUMNS.map((column) => [column, session[column]])) as unknown as Attribution;
  return {
    ...attribution,
    id: event.id,
    site_id: event.site_id,
    ts: event.ts,
    name: event.name,
    visitor_id: session.visitor_id,
    session_id: session.id,
    hostname: event.hostname,
    pathname: event.pathname,
    props: event.props,
    revenue: event.revenue,
    engaged_ms: null,
  };
}

/** The D1 row of a live session (drops the DO-only fields). */
export function sessionRow(session: LiveSession): SessionRow {
  const { interacted: _interacted, ...row } = session;
  return row;
}

function bounce(pageviews: number, interacted: boolean): 0 | 1 {
  return pageviews <= 1 && !interacted ? 1 : 0;
}
