// parsePayload: long and short keys, defaults, and the invalid shapes it drops; through the
// route, the limits answer 400 JSON and a long referrer is truncated, not refused.
import { describe, expect, it } from "vitest";
import { isDrop } from "../src/collector/ingest/drop";
import { MAX_PROP_KEY_LENGTH, MAX_PROP_VALUE_LENGTH, MAX_URL_LENGTH, parsePayload } from "../src/collector/ingest/payload";
import { createSite, drainOutbox, postEvent, rows, siteStub } from "./helpers";

const parse = (body: unknown) => parsePayload(JSON.stringify(body));

describe("parsePayload", () => {
  it("reads short keys and applies defaults", () => {
    const payload = parse({ n: "pageview", u: "https://a.test/x?y=1", d: " A.test " });
    expect(isDrop(payload)).toBe(false);
    expect(payload).toMatchObject({ name: "pageview", domains: ["a.test"], referrer: null, props: null, revenue: null, interactive: true, screenWidth: null });
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

  it("drops an amount beyond ten trillion either way, and keeps one at the bound", () => {
    for (const revenue of [1e300, "-1e14", { amount: 1.7e308, currency: "EUR" }]) {
      expect(parse({ n: "e", u: "https://a.test/", d: "a.test", revenue })).toMatchObject({ dropped: true, reason: "invalid", status: 400 });
    }
    expect(parse({ n: "e", u: "https://a.test/", d: "a.test", revenue: -1e13 })).toMatchObject({ revenue: -1e13 });
  });

  it("keeps revenue's currency, upper-cased, and drops a code that is not three letters", () => {
    expect(parse({ n: "e", u: "https://a.test/", d: "a.test", revenue: { amount: "9", currency: " eur" } }))
      .toMatchObject({ revenue: 9, revenueCurrency: "EUR" });
    expect(parse({ n: "e", u: "https://a.test/", d: "a.test", revenue: 9 })).toMatchObject({ revenue: 9, revenueCurrency: null });
    for (const currency of ["EURO", "€", 978]) {
      expect(parse({ n: "e", u: "https://a.test/", d: "a.test", revenue: { amount: 9, currency } }))
        .toMatchObject({ dropped: true, reason: "invalid" });
    }
  });

  it("drops malformed payloads as invalid with a message naming the problem", () => {
    const result = parse({ n: "e", u: "data:text/plain,hi", d: "a.test" });
    expect(result).toMatchObject({ dropped: true, reason: "invalid", status: 400 });
    expect(isDrop(result) && result.message).toContain("data:");
    expect(parsePayload("null")).toMatchObject({ reason: "invalid" });
  });
});

describe("props", () => {
  it("keeps a prop named __proto__ as a prop, in both the object and the JSON-string form", () => {
    // Written as JSON text: an object literal's __proto__ would set a prototype, not a key.
    const text = '{"n":"e","u":"https://a.test/","d":"a.test","p":{"__proto__":"x","plan":"pro"}}';
    const payload = parsePayload(text);
    expect(isDrop(payload)).toBe(false);
    const props = (payload as { props: Record<string, string> }).props;
    expect(Object.keys(props)).toEqual(["__proto__", "plan"]);
    expect(JSON.stringify(props)).toBe('{"__proto__":"x","plan":"pro"}');
    const legacy = parsePayload(JSON.stringify({ n: "e", u: "https://a.test/", d: "a.test", props: '{"__proto__":"y"}' }));
    expect(JSON.stringify((legacy as { props: unknown }).props)).toBe('{"__proto__":"y"}');
  });

  it("stores a __proto__ prop end to end", async () => {
    const siteId = await createSite("proto.test");
    const response = await postEvent('{"n":"Signup","u":"https://proto.test/","d":"proto.test","p":{"__proto__":"polluted?"}}');
    expect(response.status).toBe(202);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    const [event] = await rows<{ props: string }>("events", siteId);
    expect(event?.props).toBe('{"__proto__":"polluted?"}');
  });

  it("answers 400 JSON for a prop key over 300 characters and a value over 2,000", async () => {
    await createSite("limits.test");
    const send = (props: Record<string, string>) => postEvent({ n: "e", u: "https://limits.test/", d: "limits.test", p: props });
    for (const props of [{ ["k".repeat(MAX_PROP_KEY_LENGTH + 1)]: "v" }, { k: "v".repeat(MAX_PROP_VALUE_LENGTH + 1) }]) {
      const response = await send(props);
      expect(response.status).toBe(400);
      expect(response.headers.get("Content-Type")).toBe("application/json");
      expect(await response.json()).toEqual({ code: "invalid", message: expect.stringMatching(/too long key|longer than 2000/) });
    }
    // At the limits exactly, the event is accepted.
    expect((await send({ ["k".repeat(MAX_PROP_KEY_LENGTH)]: "v" })).status).toBe(202);
    expect((await send({ k: "v".repeat(MAX_PROP_VALUE_LENGTH) })).status).toBe(202);
  });
});

describe("referrer", () => {
  it("truncates a referrer over 2,000 characters instead of refusing the event", async () => {
    const siteId = await createSite("long-ref.test");
    const referrer = `https://news.example/${"a".repeat(3000)}`;
    const response = await postEvent({ n: "pageview", u: "https://long-ref.test/", d: "long-ref.test", r: referrer });
    expect(response.status).toBe(202);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    const [event] = await rows<{ referrer: string; source: string }>("events", siteId);
    expect(event?.referrer).toBe(referrer.slice(0, MAX_URL_LENGTH));
    expect(event?.source).toBe("news.example");
  });
});
