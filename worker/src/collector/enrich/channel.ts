/**
 * The acquisition channel of a visit, from click ids, UTM tags and the referrer, in that order
 * (the precedence of GA4's default channel grouping, which Plausible follows too). Channel names
 * are the ones dashboards show: "Direct", "Organic Search", "Paid Search", "Organic Social",
 * "Paid Social", "Email", "Display", "Affiliates", "Organic Video", "Paid Video", "Paid Other",
 * "SMS", "Push", "AI Assistants", "Referral".
 */
import { queryParams } from "./page";
import type { KnownSource } from "./source-aliases";

/** Every channel the collector assigns. */
export type Channel =
  | "Direct" | "Organic Search" | "Paid Search" | "Organic Social" | "Paid Social" | "Email" | "Display"
  | "Affiliates" | "Organic Video" | "Paid Video" | "Paid Other" | "SMS" | "Push" | "AI Assistants" | "Referral";

/**
 * Ad click ids an ad platform appends to landing-page URLs: their presence marks paid traffic,
 * with the channel and the source it implies when the referrer is missing.
 */
export const CLICK_IDS: Record<string, [Channel, string]> = {
  gclid: ["Paid Search", "Google"],
  gbraid: ["Paid Search", "Google"],
  wbraid: ["Paid Search", "Google"],
  gad_source: ["Paid Search", "Google"],
  msclkid: ["Paid Search", "Bing"],
  yclid: ["Paid Search", "Yandex"],
  dclid: ["Display", "Google"],
  fbclid: ["Paid Social", "Facebook"],
  ttclid: ["Paid Social", "TikTok"],
  twclid: ["Paid Social", "Twitter"],
  li_fat_id: ["Paid Social", "LinkedIn"],
  rdt_cid: ["Paid Social", "Reddit"],
  ScCid: ["Paid Social", "Snapchat"],
  epik: ["Paid Social", "Pinterest"],
};

const CLICK_ID_ENTRIES = Object.entries(CLICK_IDS);

/** The first click id present in a page URL, or null. */
export function clickId(url: URL): [Channel, string] | null {
  const params = queryParams(url);
  if (params === null) return null;
  for (const [param, meaning] of CLICK_ID_ENTRIES) if (params.has(param)) return meaning;
  return null;
}

/** What the channel rules read. */
export interface ChannelInput {
  /** The visit's source name (from the referrer or a source parameter), null when none. */
  source: string | null;
  /** The referrer list's entry for the source, when it knows it. */
  known: KnownSource | null;
  utmMedium: string | null;
  /** A click id's [channel, source] (see clickId). */
  click: [Channel, string] | null;
}

const PAID_MEDIUM = /^(.*cp.*|ppc|retargeting|paid.*)$/;
const VIDEO_SOURCES = new Set(["youtube", "vimeo", "twitch", "dailymotion", "tiktok"]);

/** Decides the channel; see the module comment for the order of the rules. */
export function channelFor({ source, known, utmMedium, click }: ChannelInput): Channel {
  const medium = utmMedium?.toLowerCase() ?? "";
  const kind = known?.medium ?? "";
  const video = VIDEO_SOURCES.has((known?.name ?? source ?? "").toLowerCase());
  if (click) return click[0];
  if (medium) {
    if (/^(display|banner|expandable|interstitial|cpm)$/.test(medium)) return "Display";
    if (PAID_MEDIUM.test(medium)) {
      if (video) return "Paid Video";
      if (kind === "search") return "Paid Search";
      if (kind === "social") return "Paid Social";
      return "Paid Other";
    }
    if (/^(e[-_ ]?mail|newsletter)$/.test(medium)) return "Email";
    if (/^affiliates?$/.test(medium)) return "Affiliates";
    if (/^(social|social[-_ ]?(network|media)|sm)$/.test(medium)) return video ? "Organic Video" : "Organic Social";
    if (/video/.test(medium)) return "Organic Video";
    if (medium === "organic") return "Organic Search";
    if (medium === "sms") return "SMS";
    if (/push|notification/.test(medium)) return "Push";
  }
  if (!source) return "Direct";
  // utm_source=fb-ads, gads, adwords: an ad account's shorthand (source-aliases.ts).
  if (known?.paid) return video ? "Paid Video" : kind === "search" ? "Paid Search" : kind === "social" ? "Paid Social" : "Paid Other";
  if (video) return "Organic Video";
  switch (kind) {
    case "search":
      return "Organic Search";
    case "social":
      return "Organic Social";
    case "email":
      return "Email";
    case "paid":
      return "Display";
    case "ai":
      return "AI Assistants";
    default:
      return "Referral";
  }
}
