/**
 * scrub_pii: personal data in what a visitor's browser sends is removed before the event reaches
 * the Durable Object, so it is never stored, archived or shown. Visitors' URLs and properties
 * carry it by accident: a sign-up page at /welcome/jane@example.com, a reset link's token, an
 * order or phone number typed into a search box that ends up in a query string.
 *
 * - E-mail addresses (also with the `@` percent-encoded as `%40`) become `[email]`.
 * - Runs of MIN_DIGITS or more digits, single spaces, `+` or hyphens between them allowed
 *   (phone, card and account numbers as people write them), become `[number]`.
 * - Query strings keep only the UTM parameters and the site's `keep_query_params`: every other
 *   parameter is dropped, and so are a URL's fragment and user name / password.
 *
 * Applied to the path (in hash mode the route's own query too), the referrer, the UTM values and
 * the source taken from a URL parameter, every property value (a value that is an http(s)
 * URL is treated as a URL) and identify()'s trait values, which are then cut to
 * MAX_TRAIT_VALUE_LENGTH. Not to identify()'s id: the DO stores only its keyed hash, and
 * scrubbing would make every e-mail id the same user. docs/privacy.md lists it for site owners.
 */
import type { CollectedEvent, EventIdentity } from "../../contract";
import type { Site } from "../site-lookup";
import { MAX_TRAIT_VALUE_LENGTH } from "./identity";

export const EMAIL_PLACEHOLDER = "[email]";
export const NUMBER_PLACEHOLDER = "[number]";
/** The shortest digit run replaced: 9 covers phone numbers without area code and most ids that
 * identify a person (account, card, national numbers), while years, dates and prices stay. */
export const MIN_DIGITS = 9;

// Starts only where a run of local-part characters starts: otherwise every position of a long
// run without an "@" would be tried again (quadratic; ~3 ms for one 2,000-character value).
const EMAIL = /(?<![\w.+%-])[\w.+%-]+(?:@|%40)[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/gi;
// Not right after "%" or "%X": the hex digits of a percent escape are not part of a number.
const DIGITS = new RegExp(`(?<!%[\\da-f]?)\\d(?:(?:[ +-]|%20)?\\d){${MIN_DIGITS - 1},}`, "gi");

/** `text` with e-mail addresses and long digit runs replaced by placeholders. */
export function scrubText(text: string): string {
  return text.replace(EMAIL, EMAIL_PLACEHOLDER).replace(DIGITS, NUMBER_PLACEHOLDER);
}

/** True for a query parameter kept in stored URLs: a UTM tag or one the site keeps. */
function isKept(name: string, keep: ReadonlySet<string>): boolean {
  return name.toLowerCase().startsWith("utm_") || keep.has(name);
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return raw;
  }
}

/** A query string (with or without its `?`) cut to its kept parameters, values scrubbed: "?a=b" or "". */
export function keptQuery(search: string, keep: ReadonlySet<string>): string {
  const pairs = search.replace(/^\?/, "").split("&");
  const kept: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (name === "" || !isKept(decodeName(name), keep)) continue;
    kept.push(eq < 0 ? name : `${name}=${scrubText(pair.slice(eq + 1))}`);
  }
  return kept.length > 0 ? `?${kept.join("&")}` : "";
}

/** A stored path: scrubbed, and in hash mode (`/app#/search?q=…`) the route's query cut too. */
export function scrubPath(path: string, keep: ReadonlySet<string>): string {
  const query = path.indexOf("?");
  return query < 0 ? scrubText(path) : scrubText(path.slice(0, query)) + keptQuery(path.slice(query), keep);
}

/** An absolute URL as stored: origin and scrubbed path, kept query; no credentials, no fragment. */
export function scrubUrl(text: string, keep: ReadonlySet<string>): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not parseable (a referrer cut to its length can end anywhere): keep what precedes any query.
    return scrubText(text.split(/[?#]/, 1)[0] ?? "");
  }
  return `${url.protocol}//${url.host}${scrubText(url.pathname)}${keptQuery(url.search, keep)}`;
}

/** A property value: a URL (one token, no spaces) is stored like one; any other text scrubbed. */
function scrubValue(value: string, keep: ReadonlySet<string>): string {
  return /^https?:\/\/\S*$/i.test(value) ? scrubUrl(value, keep) : scrubText(value);
}

const keepSets = new WeakMap<string[], ReadonlySet<string>>();

function keepSet(site: Site): ReadonlySet<string> {
  let keep = keepSets.get(site.keepQueryParams);
  if (!keep) keepSets.set(site.keepQueryParams, (keep = new Set(site.keepQueryParams)));
  return keep;
}

const scrubMaybe = (text: string | null): string | null => (text === null ? null : scrubText(text));

/** The event as it may be stored: every visitor-sent text column scrubbed (see the module comment). */
export function scrubEvent(event: CollectedEvent, site: Site): CollectedEvent {
  const keep = keepSet(site);
  // Object.fromEntries defines each key, so a "__proto__" prop stays a prop.
  const props =
    event.props === null
      ? null
      : JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(event.props) as Record<string, string>).map(([key, value]) => [key, scrubValue(value, keep)])));
  return {
    ...event,
    pathname: scrubPath(event.pathname, keep),
    referrer: event.referrer === null ? null : scrubUrl(event.referrer, keep),
    source: scrubMaybe(event.source),
    utm_source: scrubMaybe(event.utm_source),
    utm_medium: scrubMaybe(event.utm_medium),
    utm_campaign: scrubMaybe(event.utm_campaign),
    utm_term: scrubMaybe(event.utm_term),
    utm_content: scrubMaybe(event.utm_content),
    page_title: scrubMaybe(event.page_title ?? null),
    props,
    identity: event.identity ? scrubIdentity(event.identity) : null,
  };
}

/** Trait values scrubbed, then cut (cutting first could leave half an address the scrubber misses). */
function scrubIdentity(identity: EventIdentity): EventIdentity {
  if (identity.traits === null) return identity;
  const traits = identity.traits
    .map(([key, value]): [string, string] => [key, [...scrubText(value)].slice(0, MAX_TRAIT_VALUE_LENGTH).join("").trim()])
    .filter(([, value]) => value !== "");
  return { id: identity.id, traits: traits.length > 0 ? traits : null };
}
