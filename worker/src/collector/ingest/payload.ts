/**
 * The event payload: JSON text in, a validated `EventPayload` out. Accepts the Plausible Events
 * API key names (`name, url, domain, referrer, props, revenue, interactive`, plus `screen_width`,
 * `hash_mode`, `engagement_time`, `scroll_depth`), Plausible's other spellings (`meta` / `m` for
 * props, `hashMode`, the official tracker's `sd`) and our tracker's short keys
 * (`n u d r p $ i w h e s t l`); when several are present the first in that order wins. `title`
 * (`t`) and `language` (`l`) are context: an unusable one reads as none. The opt-in add-ons'
 * fields (`user_id`/`U` and `traits`/`T` from identify, `returning`/`R`) are read here and judged
 * per site by identity.ts; a `returning` that is no boolean reads as none.
 * What Plausible accepts is accepted here too: no `domain` (the URL's host), several domains
 * (`"a.test,b.test"`), a numeric name, any URL scheme but `data:`; a prop Plausible would not
 * keep (nested, empty, past the 30th) is left out, not a reason to lose the event.
 * Every other malformed field drops the event as `invalid` with a message naming the field. Lone UTF-16
 * surrogates in any string (name, url, domain, referrer, props keys and values) become U+FFFD
 * (well-formed.ts), so nothing stored is invalid UTF-8.
 */
import { type Drop, drop, isDrop } from "./drop";
import { wellFormed } from "./well-formed";
import { parseVitals, type VitalsReport, WEB_VITALS } from "./vitals";

/** Longest event name, in characters. */
export const MAX_NAME_LENGTH = 120;
/**
 * Longest page URL accepted, in characters (a longer one drops the event). Also the length a
 * referrer is cut to: a referrer is context, not the event, so a long one is truncated
 * (enrich/referrer.ts), never a reason to lose the pageview.
 */
export const MAX_URL_LENGTH = 2000;
/** Most sites one event may be sent to (`domain: "a.test,b.test"`). */
export const MAX_DOMAINS = 10;
/** Custom property caps (the same as Plausible's): props past the 30th are left out. */
export const MAX_PROPS = 30;
export const MAX_PROP_KEY_LENGTH = 300;
export const MAX_PROP_VALUE_LENGTH = 2000;
/** The event name of the tracker's engaged-time / scroll-depth report. */
export const ENGAGEMENT = "engagement";
/** Engaged time above this is clamped: no page is read for longer in one view. */
export const MAX_ENGAGED_MS = 24 * 60 * 60 * 1000;

/** A validated event, before enrichment. */
export interface EventPayload {
  name: string;
  url: URL;
  /** The sites the event counts for, lowercased, at least one. */
  domains: string[];
  referrer: string | null;
  /** Flat custom properties, every value a string; null when there are none. */
  props: Record<string, string> | null;
  revenue: number | null;
  /** The ISO 4217 code the revenue was sent in (upper case), null when sent as a bare number. */
  revenueCurrency: string | null;
  /** False only when the sender says so; interactive events end a bounce. */
  interactive: boolean;
  screenWidth: number | null;
  /** The site routes by URL hash (data-hash): the hash is part of the page path. */
  hashMode: boolean;
  /** For engagement events: engaged ms on the page so far (cumulative), else null. */
  engagedMs: number | null;
  /** For engagement events: deepest scroll, percent 0–100, else null. */
  scrollDepth: number | null;
  /** For web vitals reports (vitals.ts): the page view's values and age, else null. */
  vitals: VitalsReport | null;
  /** For pageviews: the page's title, whitespace collapsed, capped at MAX_TITLE_LENGTH; else null. */
  title: string | null;
  /** The browser's language (`navigator.language`) as a canonical BCP 47 tag, else null. */
  language: string | null;
  /**
   * identify(): the user id exactly as sent (a finite number as its text), not yet judged:
   * identity.ts checks it against the site and userIdProblem. Undefined when none was sent.
   */
  userId: unknown;
  /** identify()'s traits as sent (identity.ts keeps the declared keys), undefined when none. */
  traits: unknown;
  /** The returning add-on: this browser had visited the site on an earlier day; null when not told. */
  returning: boolean | null;
}

/** Longest page title kept, in characters (a longer one is cut, never a reason to drop). */
export const MAX_TITLE_LENGTH = 150;
/**
 * Largest revenue amount, either sign: ten trillion, above any real order even in currencies of
 * many digits, and far from where a sum of amounts overflows a float (which JSON cannot carry).
 */
export const MAX_REVENUE = 1e13;

type Json = Record<string, unknown>;

/** The value under the first of `keys` that is set (undefined when none is); strings well-formed. */
function pick(body: Json, ...keys: string[]): unknown {
  const value = body[keys.find((key) => body[key] !== undefined) ?? ""];
  return typeof value === "string" ? wellFormed(value) : value;
}

/** Parses and validates an event body; see the module comment for the accepted shape. */
export function parsePayload(text: string): EventPayload | Drop {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return drop("invalid", "body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return drop("invalid", "body must be a JSON object");
  }
  const fields = body as Json;

  const rawName = pick(fields, "name", "n");
  // Plausible takes a numeric name as its text.
  const name = typeof rawName === "number" && Number.isFinite(rawName) ? String(rawName) : rawName;
  if (typeof name !== "string" || name.trim() === "") return drop("invalid", "name is required and must be a string");
  if (name.length > MAX_NAME_LENGTH) return drop("invalid", `name is longer than ${MAX_NAME_LENGTH} characters`);

  const url = parseUrl(pick(fields, "url", "u"));
  if (!(url instanceof URL)) return url;

  const domains = parseDomains(pick(fields, "domain", "d"), url);
  if (isDrop(domains)) return domains;

  const referrer = pick(fields, "referrer", "r");
  if (referrer !== undefined && referrer !== null && typeof referrer !== "string") {
    return drop("invalid", "referrer must be a string or null");
  }

  const rawProps = pick(fields, "props", "p", "meta", "m");
  // A web vitals report's props are numbers, read as such (vitals.ts); it keeps no props.
  const vitals = name.trim() === WEB_VITALS ? parseVitals(rawProps) : null;
  if (isDrop(vitals)) return vitals;
  const props = vitals ? null : parseProps(rawProps);
  if (isDrop(props)) return props;

  const money = parseRevenue(pick(fields, "revenue", "$"));
  if (isDrop(money)) return money;

  const interactive = pick(fields, "interactive", "i");
  if (interactive !== undefined && interactive !== null && typeof interactive !== "boolean") {
    return drop("invalid", "interactive must be a boolean");
  }

  const width = pick(fields, "screen_width", "w");
  if (width !== undefined && width !== null && (typeof width !== "number" || !Number.isFinite(width) || width < 0)) {
    return drop("invalid", "screen_width must be a non-negative number");
  }

  const hashMode = pick(fields, "hash_mode", "hashMode", "h");
  if (hashMode !== undefined && hashMode !== null && typeof hashMode !== "boolean" && hashMode !== 0 && hashMode !== 1) {
    return drop("invalid", "hash_mode must be a boolean");
  }

  const engagedMs = metric(pick(fields, "engagement_time", "e"), "engagement_time");
  if (isDrop(engagedMs)) return engagedMs;
  const scrollDepth = metric(pick(fields, "scroll_depth", "sd", "s"), "scroll_depth");
  if (isDrop(scrollDepth)) return scrollDepth;
  const trimmed = name.trim();
  if (trimmed === ENGAGEMENT && engagedMs === null && scrollDepth === null) {
    return drop("invalid", "an engagement event needs engagement_time or scroll_depth");
  }

  return {
    name: trimmed,
    url,
    domains,
    referrer: referrer === undefined || referrer === "" ? null : referrer,
    props,
    revenue: money?.amount ?? null,
    revenueCurrency: money?.currency ?? null,
    interactive: interactive !== false,
    screenWidth: typeof width === "number" ? Math.round(width) : null,
    hashMode: hashMode === true || hashMode === 1,
    engagedMs: trimmed === ENGAGEMENT && engagedMs !== null ? Math.min(Math.round(engagedMs), MAX_ENGAGED_MS) : null,
    scrollDepth: trimmed === ENGAGEMENT && scrollDepth !== null ? Math.min(Math.round(scrollDepth), 100) : null,
    vitals,
    title: trimmed === "pageview" ? parseTitle(pick(fields, "title", "t")) : null,
    language: parseLanguage(pick(fields, "language", "l")),
    // Raw, not through pick: a lone surrogate made U+FFFD would let two ids hash alike.
    userId: rawUserId(fields.user_id !== undefined ? fields.user_id : fields.U),
    traits: fields.traits !== undefined ? fields.traits : fields.T,
    returning: parseReturning(pick(fields, "returning", "R")),
  };
}

/** null and "" mean "no id" (identify(null) forgets it); a finite number is taken as its text. */
function rawUserId(value: unknown): unknown {
  if (value === null || value === "") return undefined;
  return typeof value === "number" && Number.isFinite(value) ? String(value) : value;
}

/** true / false (or 1 / 0); anything else reads as "not told". */
function parseReturning(value: unknown): boolean | null {
  return value === true || value === 1 ? true : value === false || value === 0 ? false : null;
}

/** A title is context, like a referrer: anything unusable reads as none, never drops the event. */
function parseTitle(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const title = [...value.replace(/\s+/g, " ").trim()].slice(0, MAX_TITLE_LENGTH).join("").trim();
  return title === "" ? null : title;
}

/** `en-us` -> `en-US`; a value that is no language tag reads as none. */
function parseLanguage(value: unknown): string | null {
  if (typeof value !== "string" || value.length > 35) return null;
  try {
    return Intl.getCanonicalLocales(value)[0] ?? null;
  } catch {
    return null;
  }
}

/** A non-negative finite number, or null when absent. */
function metric(value: unknown, field: string): number | null | Drop {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return drop("invalid", `${field} must be a non-negative number`);
  return value;
}

function parseUrl(value: unknown): URL | Drop {
  if (typeof value !== "string" || value === "") return drop("invalid", "url is required and must be a string");
  if (value.length > MAX_URL_LENGTH) return drop("invalid", `url is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return drop("invalid", "url is not a valid absolute URL");
  }
  // Apps send app:// or android-app:// URLs (Plausible counts them); a data: URL is a document,
  // not a page anyone can visit again.
  if (url.protocol === "data:") return drop("invalid", "url must not be a data: URL");
  return url;
}

/** True for an http(s) URL: a page on the web, whose host must be one of the site's. */
export function isWebUrl(url: URL): boolean {
  return url.protocol === "http:" || url.protocol === "https:";
}

/**
 * `domain` as Plausible reads it: one domain, several separated by commas (the event counts for
 * each), or missing, when the page URL's host (without `www.`) names the site. Domains are
 * compared case-insensitively, like hostnames.
 */
function parseDomains(value: unknown, url: URL): string[] | Drop {
  if (value === undefined || value === null) {
    const host = url.hostname.toLowerCase().replace(/^www\./, "");
    return host === "" ? drop("invalid", "domain is required when the url has no host") : [host];
  }
  if (typeof value !== "string") return drop("invalid", "domain must be a string");
  const domains = [...new Set(value.split(",").map((domain) => domain.trim().toLowerCase()).filter((domain) => domain !== ""))];
  if (domains.length === 0) return drop("invalid", "domain must not be empty");
  if (domains.length > MAX_DOMAINS) return drop("invalid", `domain names more than ${MAX_DOMAINS} sites`);
  if (domains.some((domain) => domain.length > 255)) return drop("invalid", "domain is longer than 255 characters");
  return domains;
}

/** Props may be an object or (Plausible's legacy form) a JSON string holding one. */
function parseProps(value: unknown): Record<string, string> | Drop | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return drop("invalid", "props must be an object");
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return drop("invalid", "props must be an object");
  const entries = Object.entries(value);
  // No prototype: a key named "__proto__" (legal in JSON, and JSON.parse makes it an own
  // property) would otherwise set the object's prototype instead of becoming a prop.
  const props: Record<string, string> = Object.create(null);
  let kept = 0;
  for (const [rawKey, raw] of entries) {
    // Cleaned here, before enrichment serialises props to JSON text (where a lone surrogate
    // would survive as a `\ud800` escape that SQLite's json functions decode to invalid UTF-8).
    const key = wellFormed(rawKey);
    if (key === "" || key.length > MAX_PROP_KEY_LENGTH) return drop("invalid", "props has an empty or too long key");
    // Left out as Plausible leaves them out: no value, a nested one, one past the 30th.
    if (raw === null || raw === undefined || raw === "" || typeof raw === "object" || kept >= MAX_PROPS) continue;
    const text = wellFormed(String(raw));
    if (text.length > MAX_PROP_VALUE_LENGTH) return drop("invalid", `props.${key} is longer than ${MAX_PROP_VALUE_LENGTH} characters`);
    props[key] = text;
    kept++;
  }
  return kept > 0 ? props : null;
}

/**
 * Revenue as a number, a numeric string, or Plausible's `{amount, currency}`. The currency is
 * kept (EUR and USD amounts must never be added up); a bare number has none.
 */
function parseRevenue(value: unknown): { amount: number; currency: string | null } | Drop | null {
  if (value === undefined || value === null) return null;
  const object = typeof value === "object" && !Array.isArray(value) ? (value as Json) : null;
  const amount = object ? object.amount : value;
  const number = typeof amount === "number" ? amount : typeof amount === "string" && amount.trim() !== "" ? Number(amount) : NaN;
  if (!Number.isFinite(number)) return drop("invalid", "revenue must be a number");
  if (Math.abs(number) > MAX_REVENUE) return drop("invalid", `revenue must be at most ${MAX_REVENUE.toExponential()} either way`);
  const code = object?.currency;
  if (code === undefined || code === null) return { amount: number, currency: null };
  if (typeof code !== "string" || !/^[A-Za-z]{3}$/.test(code.trim())) {
    return drop("invalid", "revenue.currency must be a three-letter ISO 4217 code");
  }
  return { amount: number, currency: code.trim().toUpperCase() };
}
