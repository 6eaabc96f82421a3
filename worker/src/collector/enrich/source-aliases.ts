/**
 * Shorthands people put in `utm_source` for well-known sources (`ig`, `fb`, `yt`, `gads`), the
 * idea of Plausible's custom sources: a campaign tagged `utm_source=ig` is Instagram traffic, and
 * grouping it under "Instagram" beside referrals from instagram.com is what the owner means.
 * Names are the ones the referrer list gives the same source, so both land in one row. An alias
 * for an ad account (`fb-ads`, `gads`, `adwords`) marks the visit paid (channel.ts).
 */

/** What the referrer list (referrer.ts) or an alias says about a source: its display name and medium. */
export interface KnownSource {
  name: string;
  /** The list's medium: search, social, email, paid, referral, unknown — or "ai" (referrer.ts's AI assistants). */
  medium: string;
  /** Named by an ad account's shorthand (utm_source=fb-ads): paid traffic. */
  paid?: boolean;
}

type Alias = [name: string, medium: string, paid?: "paid"];

const ALIASES: Record<string, Alias> = {
  fb: ["Facebook", "social"],
  fcb: ["Facebook", "social"],
  ig: ["Instagram", "social"],
  yt: ["Youtube", "social"],
  tw: ["Twitter", "social"],
  li: ["LinkedIn", "social"],
  "tik.tok": ["TikTok", "social"],
  tiktok: ["TikTok", "social"],
  linktree: ["Linktree", "referral"],
  "fb-ads": ["Facebook", "social", "paid"],
  fbads: ["Facebook", "social", "paid"],
  fbad: ["Facebook", "social", "paid"],
  "facebook-ads": ["Facebook", "social", "paid"],
  facebook_ads: ["Facebook", "social", "paid"],
  facebook_ad: ["Facebook", "social", "paid"],
  facebook_feed_ad: ["Facebook", "social", "paid"],
  "yt-ads": ["Youtube", "social", "paid"],
  "reddit-ads": ["Reddit", "social", "paid"],
  "twitter-ads": ["Twitter", "social", "paid"],
  tiktokads: ["TikTok", "social", "paid"],
  adwords: ["Google", "search", "paid"],
  gads: ["Google", "search", "paid"],
  googleads: ["Google", "search", "paid"],
  google_ads: ["Google", "search", "paid"],
  "google-ads": ["Google", "search", "paid"],
  "google ads": ["Google", "search", "paid"],
};

/** The source a shorthand stands for (matched case-insensitively), or null. */
export function sourceAlias(name: string): KnownSource | null {
  const alias = Object.hasOwn(ALIASES, name.toLowerCase()) ? ALIASES[name.toLowerCase()] : undefined;
  if (!alias) return null;
  const [sourceName, medium, paid] = alias;
  return paid ? { name: sourceName, medium, paid: true } : { name: sourceName, medium };
}
