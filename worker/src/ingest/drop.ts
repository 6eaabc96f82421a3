/**
 * Typed drops: how an ingestion step says "this event stops here". A drop is data, not an
 * exception (Plausible's ingestion/event.ex does the same), so the route turns it into a
 * `{code, message}` response and later issues can count drops per reason.
 */

/** Why an event was not accepted, each with the HTTP status the collector answers. */
export const DROP_STATUS = {
  invalid: 400,
  too_large: 413,
  unknown_site: 404,
  unavailable: 503,
} as const satisfies Record<string, number>;

/** A drop reason, e.g. `invalid` or `unknown_site`. */
export type DropReason = keyof typeof DROP_STATUS;

/** A dropped event: the reason, its HTTP status and a message for the sender. */
export interface Drop {
  readonly dropped: true;
  readonly reason: DropReason;
  readonly status: number;
  readonly message: string;
}

/** Builds a drop with the status that belongs to `reason`. */
export function drop(reason: DropReason, message: string): Drop {
  return { dropped: true, reason, status: DROP_STATUS[reason], message };
}

/** Narrows a step result to a drop. */
export function isDrop(value: unknown): value is Drop {
  return typeof value === "object" && value !== null && (value as { dropped?: unknown }).dropped === true;
}
