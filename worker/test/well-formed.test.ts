// Lone UTF-16 surrogates from a visitor never reach D1 as invalid UTF-8: they are stored as U+FFFD.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { wellFormed } from "../src/collector/ingest/well-formed";
import { createSite, drainOutbox, hasSurrogateBytes, postEvent, rows, siteStub, surrogateColumns } from "./helpers";

const FFFD = "EFBFBD";

describe("lone surrogates", () => {
  it("wellFormed replaces lone surrogates and keeps pairs", () => {
    expect(wellFormed("x\uD800y")).toBe("x\uFFFDy");
    expect(wellFormed("\uDC00")).toBe("\uFFFD");
    expect(wellFormed("end\uD83D")).toBe("end\uFFFD");
    expect(wellFormed("😀")).toBe("😀");
    expect(hasSurrogateBytes("41EDA080")).toBe(true);
    expect(hasSurrogateBytes("4EDA08")).toBe(false); // not on a byte boundary
    expect(hasSurrogateBytes(FFFD)).toBe(false);
  });

  it("an event with surrogates in name, props, url and referrer is accepted and stored as U+FFFD", async () => {
    const siteId = await createSite("surrogate.test");
    // JSON.stringify writes each lone surrogate as a \ud800-style escape, as a hostile sender would.
    const body = JSON.stringify({
      n: "x\uD800y",
      u: "https://surrogate.test/a\uD800b?utm_source=s\uDC00&utm_campaign=%ED%A0%80",
      d: "surrogate.test",
      // Cut to 2,000 characters by enrichment, in the middle of an emoji's surrogate pair.
      r: `https://ref.example/${"x".repeat(1980)}\uDBFF${"😀".repeat(10)}`,
      p: { k: "\uD800", "key\uDFFF": "v", n: 1 },
    });
    expect(body).toContain("\\ud800");
    const response = await postEvent(body);
    expect(response.status).toBe(202);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);

    expect(await surrogateColumns(siteId)).toEqual({});
    const [event] = await rows<Record<string, string>>("events", siteId);
    expect(event?.name).toBe("x\uFFFDy");
    expect(JSON.parse(event?.props ?? "null")).toEqual({ k: "\uFFFD", "key\uFFFD": "v", n: "1" });
    expect(event?.utm_source).toBe("s\uFFFD");
    expect(event?.referrer?.length).toBeLessThanOrEqual(2000);
    const hex = await env.DB.prepare("SELECT hex(name) AS name, hex(props) AS props FROM events WHERE site_id = ?")
      .bind(siteId)
      .first<{ name: string; props: string }>();
    expect(hex?.name).toBe(`78${FFFD}79`);
    // The props text holds the character itself, not a \ud800 escape SQLite's JSON would decode.
    expect(event?.props).not.toMatch(/\\u[dD][89a-fA-F]/);
    const values = await env.DB.prepare("SELECT hex(value) AS h FROM events, json_each(events.props) WHERE site_id = ?")
      .bind(siteId)
      .all<{ h: string }>();
    expect(values.results.map((row) => hasSurrogateBytes(row.h))).toEqual([false, false, false]);
  });
});
