/**
 * Session rules, as pure functions: when an event continues a visit or starts a new one, and
 * how the visit's counters change. The SiteDO persists the result; nothing here does I/O.
 */
import { timeOrderedId } from "../ids";
import type { CollectedEvent } from "../contract";
import { attributionOf, type EventRow, type SessionRow } from "../rows";

/** A visit ends after this long without events (measured on event timestamps). */
export const SESSION_TIMEOUT_MS = 30 * 60 * 1000;

/** A recent pageview of a live session, the target of the tracker's engagement events. */
export interface PageView {
  id: string;
  path: string;
  ts: number;
  /** Engaged ms reported for this view (cumulative, so the latest report is the total). */
  engaged: number;
  /** Deepest scroll reported, percent. */
  scroll: number;
}

/** Pageviews kept per live session for engagement; older ones fold into `engaged_earlier`. */
export const MAX_LIVE_PAGES = 20;

/** The DO's working copy of a session: the D1 row plus what the bounce and duration rules need. */
export interface LiveSession extends SessionRow {
  /** An interactive custom event happened, so the visit is not a bounce. */
  interacted: boolean;
  /** The latest pageviews, oldest first. */
  pages?: PageView[];
  /** Engaged ms of pageviews that no longer fit in `pages`. */
  engaged_earlier?: number;
  /** The latest event or engagement report: the session's inactivity clock. */
  last_seen?: number;
}

/** The engaged time a site counts as "not a bounce" unless it says otherwise (GA4's 10 s). */
export const DEFAULT_BOUNCE_THRESHOLD_MS = 10_000;

/**
 * True when `event` belongs to `session`: same visitor and within the inactivity timeout, which
 * engagement reports reset too (a visitor reading one long page is still there).
 */
export function continues(session: LiveSession | null, event: CollectedEvent): session is LiveSession {
  return session !== null && event.ts - Math.max(session.ended_at, session.last_seen ?? 0) <= SESSION_TIMEOUT_MS;
}

/**
 * True when `userId` (an identify() id's keyed hash, null: anonymous event) names another user
 * than the one `session` is already identified as: the event starts a visit of its own, so a
 * visit never mixes two users' events (an erasure of one must not take the other's).
 */
export function switchesUser(session: LiveSession | null, userId: string | null): boolean {
  return userId !== null && session !== null && session.user_id !== null && session.user_id !== undefined && session.user_id !== userId;
}

/** The returning add-on's flag as the sessions column holds it (null: not told, or off). */
function returningOf(event: CollectedEvent): 0 | 1 | null {
  return event.returning === true ? 1 : event.returning === false ? 0 : null;
}

/**
 * Applies an event to the visitor's current session, starting a new one when there is none, it
 * timed out or `userId` is another user's (switchesUser). A new session takes its attribution
 * from this, its first event. `userId` (the identify() id's keyed hash) identifies a visit that
 * is not identified yet; the returning flag, like the language, is the visit's first known.
 */
export function applyEvent(
  current: LiveSession | null,
  event: CollectedEvent,
  visitorId: string,
  bounceThresholdMs = DEFAULT_BOUNCE_THRESHOLD_MS,
  userId: string | null = null,
): LiveSession {
  const isPageview = event.name === "pageview";
  const view: PageView[] = isPageview ? [{ id: event.id, path: event.pathname, ts: event.ts, engaged: 0, scroll: 0 }] : [];
  if (!continues(current, event) || switchesUser(current, userId)) {
    const attribution = attributionOf(event);
    const interacted = !isPageview && event.interactive;
    return {
      ...attribution,
      // Time-ordered (see ids.ts), so session rows append to their primary keys.
      id: timeOrderedId(event.ts),
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
      is_bounce: bounce(isPageview ? 1 : 0, interacted, 0, bounceThresholdMs),
      // Set by the opt-in features (migration 0027) when the site has them on.
      user_id: userId,
      is_returning: returningOf(event),
      pages: view,
      engaged_earlier: 0,
      last_seen: event.ts,
      language: event.language ?? null,
      region_code: event.region_code ?? null,
    };
  }
  const pageviews = current.pageviews + (isPageview ? 1 : 0);
  const interacted = current.interacted || (!isPageview && event.interactive);
  // Events can arrive slightly out of order (two tabs); the visit spans the earliest to the latest.
  const started_at = Math.min(current.started_at, event.ts);
  const ended_at = Math.max(current.ended_at, event.ts);
  const latest = event.ts >= current.ended_at;
  let pages = [...(current.pages ?? []), ...view].sort((a, b) => a.ts - b.ts);
  let engagedEarlier = current.engaged_earlier ?? 0;
  if (pages.length > MAX_LIVE_PAGES) {
    engagedEarlier += pages.slice(0, pages.length - MAX_LIVE_PAGES).reduce((sum, page) => sum + page.engaged, 0);
    pages = pages.slice(-MAX_LIVE_PAGES);
  }
  return withEngagement(
    {
      ...current,
      started_at,
      ended_at,
      exit_page: isPageview && latest ? event.pathname : current.exit_page,
      pageviews,
      events: current.events + (isPageview ? 0 : 1),
      interacted,
      pages,
      engaged_earlier: engagedEarlier,
      last_seen: Math.max(current.last_seen ?? 0, event.ts),
      // The visit's first known language; a session from before 0026 has none yet.
      language: current.language ?? event.language ?? null,
      // Likewise the region's code (migration 0030).
      region_code: current.region_code ?? event.region_code ?? null,
      user_id: current.user_id ?? userId,
      is_returning: current.is_returning ?? returningOf(event),
    },
    bounceThresholdMs,
  );
}

/**
 * Applies an engagement report (engaged ms and scroll depth of one pageview) to its session:
 * the pageview is the latest one of the session with the report's path (the report can arrive
 * after the next page's pageview), else the latest pageview. Returns null when the visitor has
 * no live session or it has no pageview: there is nothing to attribute the time to.
 */
export function applyEngagement(
  current: LiveSession | null,
  event: CollectedEvent,
  bounceThresholdMs = DEFAULT_BOUNCE_THRESHOLD_MS,
  userId: string | null = null,
): { session: LiveSession; page: PageView } | null {
  if (!continues(current, event)) return null;
  const pages = (current.pages ?? []).map((page) => ({ ...page }));
  const page = reportedPage(pages, event);
  if (!page) return null;
  // Reports are cumulative per pageview, so the largest one is the total: replays and reports
  // that arrive out of order change nothing.
  page.engaged = Math.max(page.engaged, event.engaged_ms ?? 0);
  page.scroll = Math.max(page.scroll, event.scroll_depth ?? 0);
  // identify() mid-page reports at once as an engagement: it identifies a visit that is not yet,
  // never re-identifies one (another user's next pageview starts a visit of its own).
  const identified = { user_id: current.user_id ?? userId, is_returning: current.is_returning ?? returningOf(event) };
  const session = withEngagement({ ...current, ...identified, pages, last_seen: Math.max(current.last_seen ?? 0, event.ts) }, bounceThresholdMs);
  return { session, page };
}

/**
 * The pageview a report on a page (engagement, web vitals) is about: the latest one of the
 * session with the report's path (the report can arrive after the next page's pageview), else
 * the latest pageview; undefined when there is none.
 */
function reportedPage(pages: readonly PageView[], event: CollectedEvent): PageView | undefined {
  return [...pages].reverse().find((candidate) => candidate.path === event.pathname) ?? pages.at(-1);
}

/**
 * The pageview a web vitals report belongs to, or null when the visitor has no live session or
 * no recent pageview of the report's page. With the view's age, the pageview of that page
 * closest to when the view began (the report's time less its age: no clock of the browser
 * involved), so a report that reaches us after a later view of the same page (sent while
 * entering the back/forward cache) still finds its own; without, the latest of that page. The
 * session is left as it is: how the page performed says nothing about the visit.
 */
export function vitalsPage(current: LiveSession | null, event: CollectedEvent): PageView | null {
  if (!continues(current, event)) return null;
  // Only a view of the report's own page: another page's row must not get its values.
  const same = (current.pages ?? []).filter((page) => page.path === event.pathname);
  const age = event.view_age_ms;
  if (age === null || age === undefined) return same.at(-1) ?? null;
  const began = event.ts - age;
  const distance = (page: PageView) => Math.abs(page.ts - began);
  return same.reduce<PageView | null>((best, page) => (best === null || distance(page) < distance(best) ? page : best), null);
}

/**
 * Recomputes duration and bounce. Duration runs from the first event to the last pageview plus
 * that page's engaged time (the time read on the exit page, which event timestamps cannot see),
 * or to the last event if that is later.
 */
function withEngagement(session: LiveSession, bounceThresholdMs: number): LiveSession {
  const pages = session.pages ?? [];
  const last = pages.at(-1);
  const engagedTotal = (session.engaged_earlier ?? 0) + pages.reduce((sum, page) => sum + page.engaged, 0);
  const toLastPage = last ? last.ts + last.engaged - session.started_at : 0;
  return {
    ...session,
    duration_ms: Math.max(session.ended_at - session.started_at, toLastPage),
    is_bounce: bounce(session.pageviews, session.interacted, engagedTotal, bounceThresholdMs),
  };
}

/** The `events` row for an event in a session: attribution comes from the session. */
export function eventRow(event: CollectedEvent, session: SessionRow): EventRow {
  const attribution = attributionOf(session);
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
    revenue_currency: event.revenue_currency,
    engaged_ms: null,
    scroll_depth: null,
  };
}

/** The D1 row of a live session (drops the DO-only fields). */
export function sessionRow(session: LiveSession): SessionRow {
  const { interacted: _interacted, pages: _pages, engaged_earlier: _earlier, last_seen: _seen, ...row } = session;
  return row;
}

/**
 * GA4's engaged-session rule, inverted: a bounce is one pageview (or none), no interactive
 * custom event, and less engaged time than the site's threshold.
 */
export function bounce(pageviews: number, interacted: boolean, engagedMs: number, thresholdMs: number): 0 | 1 {
  return pageviews <= 1 && !interacted && engagedMs < thresholdMs ? 1 : 0;
}
