/**
 * The words the collector shares with the dashboard (drop reasons and their statuses, bot
 * categories, rate-limit buckets), read from the one list both languages use:
 * src/analytics_941/words.json. Adding a word there is the whole change on both sides.
 */
import words from "../../src/analytics_941/words.json";

/** A drop reason, e.g. `invalid` or `unknown_site`. */
export type DropReason = keyof typeof words.drop_reasons;
/** A bot category, e.g. `ai_crawler`. */
export type BotCategory = keyof typeof words.bot_categories;
/** Which rate limit an event exceeds; also the `category` of its `rate_limited` drop. */
export type RateBucket = keyof typeof words.rate_limit_buckets;

/** The HTTP status the collector answers for each drop reason. */
export function dropStatus(reason: DropReason): number {
  return words.drop_reasons[reason].status;
}

/** Every bot category the collector counts. */
export const BOT_CATEGORIES = Object.keys(words.bot_categories) as BotCategory[];

/** How a rate_limited drop's message names its bucket ("from this address"). */
export function bucketMessage(bucket: RateBucket): string {
  return words.rate_limit_buckets[bucket].message;
}
