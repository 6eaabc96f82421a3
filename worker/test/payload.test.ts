// parsePayload: long and short keys, defaults, and the invalid shapes it drops.
import { describe, expect, it } from "vitest";
import { isDrop } from "../src/ingest/drop";
import { parsePayload } from "../src/ingest/payload";

const parse = (body: unknown) => parsePayload(JSON.stringify(body));

describe("parsePayload", () => {
  it("reads short keys and applies defaults", () => {
    const payload = parse({ n: "pageview", u: "https://a.test/x?y=1", d: " A.test " });
    expect(isDrop(payload)).toBe(false);
    expect(payload).toMatchObject({ name: "pageview", domain: "a.test", referrer: null, props: null, revenue: null, interactive: true, screenWidth: null });
  });

  it("prefers long keys over short ones", () => {
    expect(parse({ name: "Long", n: "short", url: "https://a.test/", d: "a.test" })).toMatchObject({ name: "Long" });
  });

  it("stringifies flat props, skips null values, and accepts props as a JSON string", () => {
    expect(parse({ n: "e", u: "https://a.test/", d: "a.test", p: { a: 1, b: false, c: null } })).toMatchObject({ props: { a: "1", b: "false" } });
    expect(parse({ n: "e", u: "https://a.test/", d: "a.test", props: '{"k":"v"}' })).toMatchObject({ props: { k: "v" } });
    expect(parse({ n: "e", u: "https://a.test/", d: "a.test", p: {} })).toMatchObject({ props: null });
  });

  it("reads revenue as a number, a numeric string or {amount, currency}", () => {
    for (const revenue of [12.5, "12.5", { amount: 12.5, currency: "USD" }]) {
      expect(parse({ n: "e", u: "https://a.test/", d: "a.test", revenue })).toMatchObject({ revenue: 12.5 });
    }
  });

  it("drops malformed payloads as invalid with a message naming the problem", () => {
    const result = parse({ n: "e", u: "javascript:alert(1)", d: "a.test" });
    expect(result).toMatchObject({ dropped: true, reason: "invalid", status: 400 });
    expect(isDrop(result) && result.message).toContain("http");
    expect(parsePayload("null")).toMatchObject({ reason: "invalid" });
    expect(parse({ n: "e", u: "https://a.test/", d: "a.test", p: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, i])) })).toMatchObject({ reason: "invalid" });
  });
});
