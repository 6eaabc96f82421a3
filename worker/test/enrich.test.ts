// Enrichment rules: referrer/source/channel, UTM tags, screen classes, geo and user agents.
import { describe, expect, it } from "vitest";
import { botCategory } from "../src/collector/enrich/bot";
import { channelFor, clickId } from "../src/collector/enrich/channel";
import { geoFromCf } from "../src/collector/enrich/geo";
import { pagePath, paramSource, screenClass, utmTags } from "../src/collector/enrich/page";
import { referrerInfo } from "../src/collector/enrich/referrer";
import { parseUserAgent } from "../src/collector/enrich/user-agent";
import { CHROME_UA } from "./helpers";

const page = new URL("https://www.shop.test/item?utm_source=mail&utm_medium=%20&utm_content=a");

const own = (hostname: string) => hostname.replace(/^www\./, "") === "shop.test";

describe("referrerInfo", () => {
  it("names known referrers from the referrer list and unknown ones by hostname without www", () => {
    expect(referrerInfo("https://www.google.com/search?q=x", own, null)).toEqual({
      referrer: "https://www.google.com/search?q=x", source: "Google", known: { name: "Google", medium: "search" },
    });
    expect(referrerInfo("https://m.youtube.com/watch?v=1", own, null)).toMatchObject({ source: "Youtube" });
    expect(referrerInfo("https://www.news.example/a", own, null)).toMatchObject({ source: "news.example", known: null });
    expect(referrerInfo("https://chatgpt.com/", own, null)).toMatchObject({ source: "ChatGPT", known: { medium: "ai" } });
  });

  it("treats no referrer, self-referrals and non-web referrers as none", () => {
    expect(referrerInfo(null, own, null)).toEqual({ referrer: null, source: null, known: null });
    expect(referrerInfo("https://shop.test/cart", own, null)).toMatchObject({ referrer: null, source: null });
    expect(referrerInfo("https://www.shop.test/cart", own, null)).toMatchObject({ referrer: null, source: null });
    expect(referrerInfo("android-app://com.x", own, null)).toMatchObject({ source: null });
    expect(referrerInfo("not a url", own, null)).toMatchObject({ source: null });
  });

  it("takes the source from the source parameter before the referrer, resolving known names", () => {
    expect(referrerInfo(null, own, "mail")).toEqual({ referrer: null, source: "mail", known: null });
    expect(referrerInfo(null, own, "google")).toMatchObject({ source: "Google", known: { medium: "search" } });
    expect(referrerInfo("https://ref.test/", own, "mail")).toEqual({ referrer: "https://ref.test/", source: "mail", known: null });
    expect(referrerInfo("https://ref.test/", own, null)).toMatchObject({ source: "ref.test" });
  });
});

describe("channelFor", () => {
  const channel = (referrer: string | null, pageUrl: string) => {
    const page = new URL(pageUrl);
    const utm = utmTags(page);
    const { known, source } = referrerInfo(referrer, own, paramSource(page, utm.utm_source));
    const click = clickId(page);
    return channelFor({ source: source ?? click?.[1] ?? null, known, utmMedium: utm.utm_medium, click });
  };

  it("assigns each channel", () => {
    expect(channel(null, "https://shop.test/")).toBe("Direct");
    expect(channel("https://www.google.com/", "https://shop.test/")).toBe("Organic Search");
    expect(channel("https://duckduckgo.com/", "https://shop.test/")).toBe("Organic Search");
    expect(channel("https://www.google.com/", "https://shop.test/?gclid=abc")).toBe("Paid Search");
    expect(channel(null, "https://shop.test/?msclkid=abc")).toBe("Paid Search");
    expect(channel(null, "https://shop.test/?utm_source=google&utm_medium=cpc")).toBe("Paid Search");
    expect(channel("https://t.co/x", "https://shop.test/")).toBe("Organic Social");
    expect(channel("https://l.facebook.com/", "https://shop.test/?fbclid=1")).toBe("Paid Social");
    expect(channel(null, "https://shop.test/?utm_source=facebook&utm_medium=paid_social")).toBe("Paid Social");
    expect(channel("https://mail.google.com/", "https://shop.test/")).toBe("Email");
    expect(channel(null, "https://shop.test/?utm_source=weekly&utm_medium=newsletter")).toBe("Email");
    expect(channel(null, "https://shop.test/?utm_source=x&utm_medium=banner")).toBe("Display");
    expect(channel(null, "https://shop.test/?utm_source=partner&utm_medium=affiliate")).toBe("Affiliates");
    expect(channel("https://www.youtube.com/", "https://shop.test/")).toBe("Organic Video");
    expect(channel("https://chatgpt.com/", "https://shop.test/")).toBe("AI Assistants");
    expect(channel("https://blog.example/post", "https://shop.test/")).toBe("Referral");
    expect(channel(null, "https://shop.test/?ref=producthunt.com")).toBe("Referral");
    expect(channel("https://shop.test/other", "https://shop.test/")).toBe("Direct"); // self-referral
  });
});

describe("botCategory", () => {
  it("finds bots and their category; browsers are not bots", () => {
    expect(botCategory("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")).toBe("search_crawler");
    expect(botCategory("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)")).toBe("ai_crawler");
    expect(botCategory("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)")).toBe("social_preview");
    expect(botCategory("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36")).toBe("headless");
    expect(botCategory("curl/8.5.0")).toBe("http_library");
    expect(botCategory("python-requests/2.32.3")).toBe("http_library");
    expect(botCategory("")).toBe("no_user_agent");
    expect(botCategory(CHROME_UA)).toBeNull();
    expect(botCategory("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")).toBeNull();
  });
});

describe("page enrichment", () => {
  it("reads UTM tags, blank values as null", () => {
    expect(utmTags(page)).toEqual({ utm_source: "mail", utm_medium: null, utm_campaign: null, utm_term: null, utm_content: "a" });
  });

  it("classes screens by width", () => {
    expect([null, 0, 575, 576, 991, 992, 1439, 1440].map(screenClass)).toEqual([
      null, "mobile", "mobile", "tablet", "tablet", "laptop", "laptop", "desktop",
    ]);
  });

  it("reads geo from cf and never stores unknown countries", () => {
    expect(geoFromCf({ country: "DE", region: "Berlin", regionCode: "BE", city: "Berlin", timezone: "Europe/Berlin" })).toEqual({
      country: "DE", region: "Berlin", city: "Berlin", timezone: "Europe/Berlin", region_code: "DE-BE",
    });
    const none = { country: null, region: null, city: null, timezone: null, region_code: null };
    expect(geoFromCf({ country: "XX", regionCode: "BE" })).toEqual(none);
    expect(geoFromCf(undefined)).toEqual(none);
  });

  it("makes the ISO 3166-2 code of the region from the country and cf.regionCode", () => {
    const code = (cf: Record<string, unknown>) => geoFromCf(cf).region_code;
    expect(code({ country: "us", regionCode: "tx" })).toBe("US-TX");
    expect(code({ country: "FR", regionCode: "IDF" })).toBe("FR-IDF");
    expect(code({ country: "EE", regionCode: "37" })).toBe("EE-37");
    // No country, no code; nor anything that is not one to three letters or digits.
    expect(code({ regionCode: "TX" })).toBeNull();
    expect(code({ country: "US", regionCode: "Texas" })).toBeNull();
    expect(code({ country: "US", regionCode: "T-X" })).toBeNull();
    expect(code({ country: "US" })).toBeNull();
  });

  it("keeps the hash in the path only in hash mode, and reads ref/source as source fallbacks", () => {
    const url = new URL("https://app.test/index.html?ref=hn#/settings/team");
    expect(pagePath(url, false)).toBe("/index.html");
    expect(pagePath(url, true)).toBe("/index.html#/settings/team");
    expect(pagePath(new URL("https://app.test/#"), true)).toBe("/");
    expect(paramSource(url, null)).toBe("hn");
    expect(paramSource(url, "utm")).toBe("utm");
    expect(paramSource(new URL("https://app.test/?source=mail"), null)).toBe("mail");
  });
});

describe("parseUserAgent", () => {
  it("derives device, browser and OS", () => {
    const iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    expect(parseUserAgent(iphone)).toMatchObject({ device: "mobile", browser: "Safari", browser_version: "17", os: "iOS" });
    const ipad = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
    expect(parseUserAgent(ipad)).toMatchObject({ device: "tablet" });
    const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    expect(parseUserAgent(firefox)).toMatchObject({ device: "desktop", browser: "Firefox", browser_version: "133", os: "Linux" });
  });

  it("returns nulls for an empty or unknown user agent", () => {
    expect(parseUserAgent("")).toEqual({ device: null, browser: null, browser_version: null, os: null, os_version: null });
    expect(parseUserAgent("curl/8.5.0")).toMatchObject({ device: null, browser: null, os: null });
  });
});
