/**
 * The event payload: JSON text in, a validated `EventPayload` out. Accepts the Plausible Events
 * API key names (`name, url, domain, referrer, props, revenue, interactive`, plus `screen_width`,
 * `hash_mode`, `engagement_time`, `scroll_depth`) and the tracker's short keys
 * (`n u d r p $ i w h e s`); when both are present the long key wins.
 * Every malformed field drops the event as `invalid` with a message naming the field. Lone UTF-16
 * surrogates in any string (name, url, domain, referrer, props keys and values) become U+FFFD
 * (well-formed.ts), so nothing stored is invalid UTF-8.
 */
import { type Drop, drop, isDrop } from "./drop";
import { wellFormed } from "./well-formed";

/** Longest event name, in characters. */
export const MAX_NAME_LENGTH = 120;
/**
 * Longest page URL accepted, in characters (a longer one drops the event). Also the length a
 * referrer is cut to: a referrer is context, not the event, so a long one is truncated
 * (enrich/referrer.ts), never a reason to lose the pageview.
 */
export const MAX_URL_LENGTH = 2000;
/** Custom property caps (the same as Plausible's). */
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
  domain: string;
  referrer: string | null;
  /** Flat custom properties, every value a string; null when there are none. */
  props: Record<string, string> | null;
  revenue: number | null;
  /** False only when the sender says so; interactive events end a bounce. */
  interactive: boolean;
  screenWidth: number | null;
  /** The site routes by URL hash (data-hash): the hash is part of the page path. */
  hashMode: boolean;
  /** For engagement events: engaged ms on the page so far (cumulative), else null. */
  engagedMs: number | null;
  /** For engagement events: deepest scroll, percent 0–100, else null. */
  scrollDepth: number | null;
}

type Json = Record<string, unknown>;

/** The value under the long key, else under the short key (undefined when neither is set); strings well-formed. */
function pick(body: Json, long: string, short: string): unknown {
  const value = body[long] !== undefined ? body[long] : body[short];
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

  const name = pick(fields, "name", "n");
  if (typeof name !== "string" || name.trim() === "") return drop("invalid", "name is required and must be a string");
  if (name.length > MAX_NAME_LENGTH) return drop("invalid", `name is longer than ${MAX_NAME_LENGTH} characters`);

  const url = parseUrl(pick(fields, "url", "u"));
  if (!(url instanceof URL)) return url;

  const domain = pick(fields, "domain", "d");
  if (typeof domain !== "string" || domain.trim() === "" || domain.length > 255) {
    return drop("invalid", "domain is required and must be a string");
  }

  const referrer = pick(fields, "referrer", "r");
  if (referrer !== undefined && referrer !== null && typeof referrer !== "string") {
    return drop("invalid", "referrer must be a string or null");
  }

  const props = parseProps(pick(fields, "props", "p"));
  if (isDrop(props)) return props;

  const revenue = parseRevenue(pick(fields, "revenue", "$"));
  if (isDrop(revenue)) return revenue;

  const interactive = pick(fields, "interactive", "i");
  if (interactive !== undefined && interactive !== null && typeof interactive !== "boolean") {
    return drop("invalid", "interactive must be a boolean");
  }

  const width = pick(fields, "screen_width", "w");
  if (width !== undefined && width !== null && (typeof width !== "number" || !Number.isFinite(width) || width < 0)) {
    return drop("invalid", "screen_width must be a non-negative number");
  }

  const hashMode = pick(fields, "hash_mode", "h");
  if (hashMode !== undefined && hashMode !== null && typeof hashMode !== "boolean" && hashMode !== 0 && hashMode !== 1) {
    return drop("invalid", "hash_mode must be a boolean");
  }

  const engagedMs = metric(pick(fields, "engagement_time", "e"), "engagement_time");
  if (isDrop(engagedMs)) return engagedMs;
  const scrollDepth = metric(pick(fields, "scroll_depth", "s"), "scroll_depth");
  if (isDrop(scrollDepth)) return scrollDepth;
  const trimmed = name.trim();
  if (trimmed === ENGAGEMENT && engagedMs === null && scrollDepth === null) {
    return drop("invalid", "an engagement event needs engagement_time or scroll_depth");
  }

  return {
    name: trimmed,
    url,
    // Domains are compared case-insensitively, like hostnames.
    domain: domain.trim().toLowerCase(),
    referrer: referrer === undefined || referrer === "" ? null : referrer,
    props,
    revenue,
    interactive: interactive !== false,
    screenWidth: typeof width === "number" ? Math.round(width) : null,
    hashMode: hashMode === true || hashMode === 1,
    engagedMs: trimmed === ENGAGEMENT && engagedMs !== null ? Math.min(Math.round(engagedMs), MAX_ENGAGED_MS) : null,
    scrollDepth: trimmed === ENGAGEMENT && scrollDepth !== null ? Math.min(Math.round(scrollDepth), 100) : null,
  };
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
  if (url.protocol !== "http:" && url.protocol !== "https:") return drop("invalid", "url must be http or https");
  return url;
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
  if (entries.length > MAX_PROPS) return drop("invalid", `props has more than ${MAX_PROPS} keys`);
  // No prototype: a key named "__proto__" (legal in JSON, and JSON.parse makes it an own
  // property) would otherwise set the object's prototype instead of becoming a prop.
  const props: Record<string, string> = Object.create(null);
  for (const [rawKey, raw] of entries) {
    // Cleaned here, before enrichment serialises props to JSON text (where a lone surrogate
    // would survive as a `\ud800` escape that SQLite's json functions decode to invalid UTF-8).
    const key = wellFormed(rawKey);
    if (key === "" || key.length > MAX_PROP_KEY_LENGTH) return drop("invalid", "props has an empty or too long key");
    if (raw === null || raw === undefined) continue;
    if (typeof raw === "object") return drop("invalid", `props.${key} must be a string, number or boolean`);
    const text = wellFormed(String(raw));
    if (text.length > MAX_PROP_VALUE_LENGTH) return drop("invalid", `props.${key} is longer than ${MAX_PROP_VALUE_LENGTH} characters`);
    props[key] = text;
  }
  return Object.keys(props).length > 0 ? props : null;
}

/** Revenue as a number, a numeric string, or Plausible's `{amount, currency}` (amount kept). */
function parseRevenue(value: unknown): number | Drop | null {
  if (value === undefined || value === null) return null;
  const amount = typeof value === "object" && !Array.isArray(value) ? (value as Json).amount : value;
  const number = typeof amount === "number" ? amount : typeof amount === "string" && amount.trim() !== "" ? Number(amount) : NaN;
  return Number.isFinite(number) ? number : drop("invalid", "revenue must be a number");
}
