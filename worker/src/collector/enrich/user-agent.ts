/**
 * User agent -> device class, browser and OS, using bowser (MIT), a maintained parser. Only the
 * derived labels leave this module; the raw user agent is never stored.
 */
import Bowser from "bowser";

/** Device, browser and OS labels derived from a user agent; null where unknown. */
export interface UserAgentInfo {
  device: "desktop" | "mobile" | "tablet" | null;
  browser: string | null;
  browser_version: string | null;
  os: string | null;
  os_version: string | null;
}

const UNKNOWN: UserAgentInfo = Object.freeze({ device: null, browser: null, browser_version: null, os: null, os_version: null });

// Results per isolate, keyed by the whole UA string (like the bot cache in bot.ts): a bowser
// parse was ~5 % of the collector's CPU under load, and real traffic repeats a few thousand UA
// strings. Frozen, since every event of that UA shares the object; cleared when full. Only UAs
// of a real browser's length are kept, so the cache stays a few MB whatever senders put there.
const cache = new Map<string, UserAgentInfo>();
const CACHE_ENTRIES = 5_000;
const MAX_CACHED_UA_LENGTH = 512;

/** Parses a user agent string; never throws (an unparseable UA is all nulls). */
export function parseUserAgent(userAgent: string): UserAgentInfo {
  if (userAgent === "") return UNKNOWN;
  const cached = cache.get(userAgent);
  if (cached !== undefined) return cached;
  const info = parse(userAgent);
  if (userAgent.length > MAX_CACHED_UA_LENGTH) return info;
  if (cache.size >= CACHE_ENTRIES) cache.clear();
  cache.set(userAgent, info);
  return info;
}

function parse(userAgent: string): UserAgentInfo {
  try {
    const { browser, os, platform } = Bowser.parse(userAgent);
    return Object.freeze({
      device: deviceClass(platform.type),
      browser: browser.name || null,
      // Major version only: minor/patch numbers add cardinality, not insight.
      browser_version: majorVersion(browser.version),
      os: os.name || null,
      // versionName is the marketing name where bowser knows it ("10", "Sonoma"), else the number.
      os_version: os.versionName || majorVersion(os.version),
    });
  } catch {
    return UNKNOWN;
  }
}

function deviceClass(type: string | undefined): UserAgentInfo["device"] {
  if (type === "mobile" || type === "tablet" || type === "desktop") return type;
  // TVs and consoles browse like desktops: big screen, no touch-first layout.
  if (type === "tv") return "desktop";
  return null;
}

function majorVersion(version: string | undefined): string | null {
  if (!version) return null;
  const major = version.split(".")[0]?.trim();
  return major ? major : null;
}
