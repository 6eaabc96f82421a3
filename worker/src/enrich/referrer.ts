/**
 * Referrer -> `referrer`, `source` and `channel`. This is the foundation rule set: source is
 * the referring hostname without `www.`, channel is "Referral" when there is a source and
 * "Direct" otherwise. A maintained referrer list (search / social / email / paid) comes later.
 */
import { MAX_URL_LENGTH } from "../ingest/payload";

/** The referrer columns of an event. */
export interface ReferrerInfo {
  referrer: string | null;
  source: string | null;
  channel: "Direct" | "Referral";
}

/** Strips a leading `www.` so www.example.com and example.com are one source. */
export function stripWww(hostname: string): string {
  return hostname.startsWith("www.") ? hostname.slice(4) : hostname;
}

/**
 * Classifies a referrer for a page. A referrer on the page's own host is internal navigation
 * (self-referral) and counts as no referrer; `utmSource` names the source when there is no
 * external referrer.
 */
export function referrerInfo(referrer: string | null, page: URL, utmSource: string | null): ReferrerInfo {
  let external: URL | null = null;
  if (referrer) {
    try {
      const url = new URL(referrer);
      const isWeb = url.protocol === "http:" || url.protocol === "https:";
      if (isWeb && stripWww(url.hostname) !== stripWww(page.hostname)) external = url;
    } catch {
      // An unparseable referrer is noise, not a source.
    }
  }
  const source = external ? stripWww(external.hostname) : utmSource;
  return {
    referrer: external ? external.href.slice(0, MAX_URL_LENGTH) : null,
    source,
    channel: source ? "Referral" : "Direct",
  };
}
