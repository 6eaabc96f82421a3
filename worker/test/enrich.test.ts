// Enrichment rules: referrer/source/channel, UTM tags, screen classes, geo and user agents.
import { describe, expect, it } from "vitest";
import { geoFromCf } from "../src/enrich/geo";
import { screenClass, utmTags } from "../src/enrich/page";
import { referrerInfo } from "../src/enrich/referrer";
import { parseUserAgent } from "../src/enrich/user-agent";

const page = new URL("https://www.shop.test/item?utm_source=mail&utm_medium=%20&utm_content=a");

describe("referrerInfo", () => {
  it("names the source by hostname without www", () => {
    expect(referrerInfo("https://www.google.com/search?q=x", page, null)).toEqual({
      referrer: "https://www.google.com/search?q=x", source: "google.com", channel: "Referral",
    });
  });

  it("treats no referrer, self-referrals and non-web referrers as direct", () => {
    expect(referrerInfo(null, page, null)).toEqual({ referrer: null, source: null, channel: "Direct" });
    expect(referrerInfo("https://shop.test/cart", page, null)).toMatchObject({ referrer: null, source: null, channel: "Direct" });
    expect(referrerInfo("android-app://com.x", page, null)).toMatchObject({ source: null });
    expect(referrerInfo("not a url", page, null)).toMatchObject({ source: null });
  });

  it("uses utm_source when there is no external referrer", () => {
    expect(referrerInfo(null, page, "mail")).toEqual({ referrer: null, source: "mail", channel: "Referral" });
    expect(referrerInfo("https://ref.test/", page, "mail")).toMatchObject({ source: "ref.test" });
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
    expect(geoFromCf({ country: "DE", region: "Berlin", city: "Berlin" })).toEqual({ country: "DE", region: "Berlin", city: "Berlin" });
    expect(geoFromCf({ country: "XX" })).toEqual({ country: null, region: null, city: null });
    expect(geoFromCf(undefined)).toEqual({ country: null, region: null, city: null });
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
