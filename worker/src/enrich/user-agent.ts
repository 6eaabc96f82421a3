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

const UNKNOWN: UserAgentInfo = { device: null, browser: null, browser_version: null, os: null, os_version: null };

/** Parses a user agent string; never throws (an unparseable UA is all nulls). */
export function parseUserAgent(userAgent: string): UserAgentInfo {
  if (userAgent === "") return UNKNOWN;
  try {
    const { browser, os, platform } = Bowser.parse(userAgent);
    return {
      device: deviceClass(platform.type),
      browser: browser.name || null,
      // Major version only: minor/patch numbers add cardinality, not insight.
      browser_version: majorVersion(browser.version),
      os: os.name || null,
      // versionName is the marketing name where bowser knows it ("10", "Sonoma"), else the number.
      os_version: os.versionName || majorVersion(os.version),
    };
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
