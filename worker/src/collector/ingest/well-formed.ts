/**
 * Well-formed text: every string a visitor sends may hold a lone UTF-16 surrogate (JSON allows
 * `"\ud800"`), and cutting a string to a length can split a surrogate pair. SQLite stores such a
 * string as invalid UTF-8, and every later read of that row fails to decode; so the collector
 * replaces each lone surrogate with U+FFFD (the replacement character) before an event reaches
 * the Durable Object. Replacing, not refusing: the event is otherwise fine, and one odd
 * character in a prop value should not lose the pageview (see docs/collector.md).
 */
import { ATTRIBUTION_COLUMNS } from "../../rows";
import type { CollectedEvent } from "../../contract";

/** `text` with every lone surrogate replaced by U+FFFD; the same string when there is none. */
export function wellFormed(text: string): string {
  return text.isWellFormed() ? text : text.toWellFormed();
}

/** `text` made well-formed, or null kept. */
function maybe(text: string | null): string | null {
  return text === null ? null : wellFormed(text);
}

/**
 * The event with every text column well-formed. Props are JSON text by now, where a lone
 * surrogate would hide as a `\ud800` escape: payload.ts cleans their keys and values before
 * they are serialised, so here they need no pass.
 */
export function wellFormedEvent(event: CollectedEvent): CollectedEvent {
  const clean = { ...event };
  // Attribution columns include what enrichment cut to a length (referrer, UTM tags).
  for (const key of ATTRIBUTION_COLUMNS) clean[key] = maybe(event[key]);
  clean.name = wellFormed(event.name);
  clean.hostname = wellFormed(event.hostname);
  clean.pathname = wellFormed(event.pathname);
  return clean;
}
