/**
 * Bot detection: `isbot` (Unlicense, maintained) decides whether a user agent is a bot; the
 * category comes from the labelled patterns of crawler-user-agents (MIT, built into
 * generated/bot-patterns.ts), after a few explicit rules for what that list does not tag.
 * The categories and their labels are listed in src/analytics_941/words.json.
 */
import { isbot } from "isbot";
import { BOT_PATTERNS } from "../../generated/bot-patterns";

import { BOT_CATEGORIES, type BotCategory } from "../../words";

export { BOT_CATEGORIES, type BotCategory };

// Checked before the list: automation that reports itself, and command-line clients the list
// files under other tags.
const EXPLICIT: [RegExp, BotCategory][] = [
  [/HeadlessChrome|PhantomJS|Puppeteer|Playwright|Selenium|webdriver|SlimerJS|Cypress/i, "headless"],
  [/^(curl|Wget|python-requests|python-urllib|Go-http-client|okhttp|axios|node-fetch|undici|Java\/|libwww-perl|Apache-HttpClient|Ruby|PHP\/|Dart\/|aiohttp|httpx|Deno\/|Bun\/)/i, "http_library"],
];

let compiled: [RegExp, BotCategory][] | null = null;
const cache = new Map<string, BotCategory | null>();
const CACHE_ENTRIES = 5_000;

/**
 * The bot category of a user agent, or null for a browser. An empty user agent is a bot
 * (`no_user_agent`): every browser sends one. Results are cached per isolate, since bots repeat
 * their user agents.
 */
export function botCategory(userAgent: string): BotCategory | null {
  if (userAgent.trim() === "") return "no_user_agent";
  const cached = cache.get(userAgent);
  if (cached !== undefined) return cached;
  const category = classify(userAgent);
  if (cache.size >= CACHE_ENTRIES) cache.clear();
  cache.set(userAgent, category);
  return category;
}

function classify(userAgent: string): BotCategory | null {
  const explicit = EXPLICIT.find(([pattern]) => pattern.test(userAgent));
  if (explicit) return explicit[1];
  if (!isbot(userAgent)) return null;
  // The list's ~1,500 patterns are compiled on the first bot only, so browsers never pay for it.
  compiled ??= BOT_PATTERNS.map(([source, category]) => [new RegExp(source), category as BotCategory]);
  return compiled.find(([pattern]) => pattern.test(userAgent))?.[1] ?? "other";
}
