/**
 * put_identity (issue 17): what of the opt-in add-ons' fields an event may take to the site's
 * Durable Object. Both are off by default, per site (migration 0027).
 *
 * - identify(): with the site's identity off, or with an id the collector would refuse
 *   (userIdProblem), the event is still counted, anonymously, and the answer says why the id
 *   was dropped (routes.ts: 202 with IDENTITY_DROPPED_HEADER). Never a 4xx: the event itself is
 *   fine, and losing pageviews because a setting is off would be worse than losing an id. The
 *   id goes to the DO as sent, which stores only its keyed hash. Traits: only the keys the site
 *   declared, flat values (strings, numbers, booleans) as text; scrub.ts scrubs and caps them.
 * - returning: kept only when the site has it on; otherwise ignored without a word, as it
 *   tells nothing about a person.
 */
import type { EventIdentity } from "../../contract";
import { userIdProblem } from "../../site-do/user-hash";
import type { Site } from "../site-lookup";
import type { EventPayload } from "./payload";
import { wellFormed } from "./well-formed";

/** Longest trait value stored, in characters (scrub.ts cuts after scrubbing). */
export const MAX_TRAIT_VALUE_LENGTH = 100;
/** Longer raw values are left out rather than cut before the scrubber saw them whole. */
const MAX_RAW_TRAIT_LENGTH = 2000;

/** Why an event's identify() id was dropped while the event was counted. */
export interface IdentityDropped {
  code: "identity_off" | "invalid_user_id";
  message: string;
}

/** The add-ons' fields as the site allows them. */
export interface IdentityStep {
  identity: EventIdentity | null;
  returning: boolean | null;
  dropped: IdentityDropped | null;
}

/** See the module comment. */
export function putIdentity(site: Site, payload: EventPayload): IdentityStep {
  const returning = site.returningEnabled ? payload.returning : null;
  if (payload.userId === undefined) return { identity: null, returning, dropped: null };
  if (!site.identityEnabled) {
    const message = "identify() is off for this site: the event was counted without its user id (turn identity on in the site's settings)";
    return { identity: null, returning, dropped: { code: "identity_off", message } };
  }
  const problem = userIdProblem(payload.userId);
  if (problem) return { identity: null, returning, dropped: { code: "invalid_user_id", message: `${problem}: the event was counted without it` } };
  return { identity: { id: payload.userId as string, traits: declaredTraits(payload.traits, site.identityTraits) }, returning, dropped: null };
}

/** The sent traits under the site's declared keys, values as text; null when none is left. */
function declaredTraits(sent: unknown, declared: readonly string[]): [string, string][] | null {
  if (typeof sent !== "object" || sent === null || Array.isArray(sent)) return null;
  const traits: [string, string][] = [];
  for (const key of declared) {
    // Own properties only: "constructor" must not reach through to Object's.
    if (!Object.hasOwn(sent, key)) continue;
    const value = (sent as Record<string, unknown>)[key];
    const text = typeof value === "string" ? value : typeof value === "number" && Number.isFinite(value) ? String(value) : typeof value === "boolean" ? String(value) : null;
    if (text === null || text.trim() === "" || text.length > MAX_RAW_TRAIT_LENGTH) continue;
    traits.push([key, wellFormed(text.trim())]);
  }
  return traits.length > 0 ? traits : null;
}
