// POST /api/event end to end inside workerd: accepted events reach D1 after the DO's alarm, and
// every rejection is a 4xx `{code, message}` with CORS headers.
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createSite, postEvent, rows, siteStub } from "./helpers";

async function expectRejected(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");
  expect(response.headers.get("Content-Type")).toContain("application/json");
  const body = await response.json<{ code: string; message: string }>();
  expect(body.code).toBe(code);
  expect(body.message).toEqual(expect.any(String));
}

describe("POST /api/event", () => {
  it("accepts a short-key pageview and writes event and session to D1 when the alarm runs", async () => {
    const siteId = await createSite("accept.test");
    const response = await postEvent(
      {
        n: "pageview",
        u: "https://accept.test/pricing?utm_source=newsletter&utm_campaign=launch",
        d: "accept.test",
        r: "https://www.news.example/item?id=1",
        w: 1280,
      },
      {},
      { country: "DE", region: "Hesse", regionCode: "HE", city: "Frankfurt am Main" },
    );
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ ok: true });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");

    expect(await rows("events", siteId)).toHaveLength(0); // still in the outbox
    expect(await runDurableObjectAlarm(siteStub(siteId))).toBe(true);

    const [event, ...more] = await rows("events", siteId);
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({
      name: "pageview",
      hostname: "accept.test",
      pathname: "/pricing",
      // Query parameters other than UTM tags are not stored (ingest/scrub.ts).
      referrer: "https://www.news.example/item",
      // utm_source names the source, whatever the referrer (Plausible's rule).
      source: "newsletter",
      channel: "Referral",
      utm_source: "newsletter",
      utm_campaign: "launch",
      utm_medium: null,
      device: "desktop",
      browser: "Chrome",
      browser_version: "131",
      os: "Windows",
      screen: "laptop",
      country: "DE",
      region: "Hesse",
      city: "Frankfurt am Main",
      props: null,
      revenue: null,
    });
    expect(event?.visitor_id).toMatch(/^[-0-9A-Z_a-z]{11}$/);

    const [session] = await rows("sessions", siteId);
    expect(session).toMatchObject({
      id: event?.session_id,
      visitor_id: event?.visitor_id,
      entry_page: "/pricing",
      exit_page: "/pricing",
      pageviews: 1,
      events: 0,
      is_bounce: 1,
      source: "newsletter",
      // The region's ISO code is the visit's only (migration 0030): events stay lean.
      region_code: "DE-HE",
    });
    expect(event).not.toHaveProperty("region_code");
  });

  it("accepts long Plausible keys with application/json, props and revenue", async () => {
    const siteId = await createSite("long-keys.test");
    const response = await postEvent(
      {
        name: "Signup",
        url: "https://long-keys.test/signup",
        domain: "Long-Keys.test",
        referrer: null,
        props: { plan: "pro", seats: 3, trial: true },
        revenue: { amount: "19.90", currency: "EUR" },
        screen_width: 390,
      },
      { "Content-Type": "application/json" },
    );
    expect(response.status).toBe(202);
    await runDurableObjectAlarm(siteStub(siteId));
    const [event] = await rows("events", siteId);
    expect(event).toMatchObject({ name: "Signup", channel: "Direct", source: null, revenue: 19.9, revenue_currency: "EUR", screen: "mobile" });
    expect(JSON.parse(event?.props as string)).toEqual({ plan: "pro", seats: "3", trial: "true" });
    const [session] = await rows("sessions", siteId);
    expect(session).toMatchObject({ pageviews: 0, events: 1, is_bounce: 0 });
  });

  it("rejects malformed JSON with 400 invalid", async () => {
    await expectRejected(await postEvent("{not json"), 400, "invalid");
  });

  it("rejects wrong types and missing fields with 400 invalid", async () => {
    const base = { n: "pageview", u: "https://types.test/", d: "types.test" };
    for (const body of [
      [base],
      { ...base, n: { x: 1 } },
      { u: base.u, d: base.d },
      { ...base, d: 7 },
      { ...base, d: " , " },
      { ...base, u: "data:text/html,<p>hi</p>" },
      { ...base, u: "/relative" },
      { ...base, u: `https://types.test/${"a".repeat(2000)}` },
      { ...base, n: "x".repeat(121) },
      { ...base, p: ["list"] },
      { ...base, r: 12 },
      { ...base, w: "wide" },
      { ...base, $: "lots" },
      { ...base, i: "yes" },
    ]) {
      await expectRejected(await postEvent(body), 400, "invalid");
    }
  });

  it("answers an unknown domain 202 unknown_site, the reason in X-941-Dropped", async () => {
    const response = await postEvent({ n: "pageview", u: "https://nobody.test/", d: "nobody.test" });
    expect(response.headers.get("X-941-Dropped")).toBe("unknown_site");
    await expectRejected(response, 202, "unknown_site");
  });

  it("rejects bodies over 8 KB by Content-Length and by bytes actually read", async () => {
    const big = JSON.stringify({ n: "pageview", u: "https://big.test/", d: "big.test", p: { pad: "x".repeat(9000) } });
    await expectRejected(await postEvent(big), 413, "too_large");

    // A streamed body has no Content-Length, so only counting the bytes catches it.
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1000)));
        controller.close();
      },
    });
    const request = new Request("https://collector.test/api/event", { method: "POST", body: stream });
    expect(request.headers.get("Content-Length")).toBeNull();
    const { exports } = await import("cloudflare:workers");
    await expectRejected(await exports.default.fetch(request), 413, "too_large");
  });

  it("answers a CORS preflight with 204", async () => {
    const { exports } = await import("cloudflare:workers");
    const response = await exports.default.fetch("https://collector.test/api/event", { method: "OPTIONS" });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(response.headers.get("Access-Control-Allow-Methods")).toContain("POST");
  });
});
