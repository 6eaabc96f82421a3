/**
 * Typed drops: how an ingestion step says "this event stops here". A drop is data, not an
 * exception (Plausible's ingestion/event.ex does the same): the route turns it into a
 * `{code, message}` response and drop-counter.ts counts it per site, UTC day, reason and
 * (for bots) category.
 */

// Why an event was not accepted, each with the HTTP status the collector answers, lives in
// src/analytics_941/words.json (shared with the dashboard). A well-formed event that is not
// counted (unknown site, wrong host, bot, excluded page) gets a 202 like an accepted one, as in
// Plausible: it is not the sender's error, and the status tells a prober nothing; the reason is
// in the X-941-Dropped header (routes.ts).
import type { Drop } from "../../contract";
import { dropStatus, type DropReason } from "../../words";

export type { Drop, DropReason };

/** Builds a drop with the status that belongs to `reason`. */
export function drop(reason: DropReason, message: string, category = ""): Drop {
  return { dropped: true, reason, status: dropStatus(reason), message, category };
}

/** Narrows a step result to a drop. */
export function isDrop(value: unknown): value is Drop {
  return typeof value === "object" && value !== null && (value as { dropped?: unknown }).dropped === true;
}
