// Web vitals reports (script.web-vitals.js): validated at the edge (a malformed report is a 400
// naming the field, a hostile value is clamped or refused, never a 500), stored once per page
// view with the latest values, never as an event, and carried loss-free by the outbox.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseVitals } from "../src/collector/ingest/vitals";
import { isDrop } from "../src/collector/ingest/drop";
import type { SiteDO } from "../src/site-do/site-do";
import { CHROME_UA, collectedEvent, createSite, drainOutbox, flakyD1, ingestOk, postEvent, rows, siteStub } from "./helpers";

interface VitalsRow {
  site_id: string;
  ts: number;
  event_id: string;
  lcp_ms: number | null;
  inp_ms: number | null;
  cls_e4: number | null;
  fcp_ms: number | null;
  ttfb_ms: number | null;
}

async function vitalsRows(siteId: string): Promise<VitalsRow[]> {
  const result = await env.DB.prepare("SELECT * FROM web_vitals WHERE site_id = ? ORDER BY ts, event_id").bind(siteId).all<VitalsRow>();
  return result.results;
}

const send = (domain: string, name: string, path: string, props?: unknown) => postEvent({ n: name, u: `https://${domain}${path}`, d: domain, p: props });

describe("parseVitals", () => {
  it("reads short keys and names, rounds times to ms and CLS to ten-thousandths", () => {
    expect(parseVitals({ l: 1234.4, i: 88, c: 0.12345, f: 900.6, t: 120, a: 5000.2 })).toEqual({ vitals: { lcp_ms: 1234, inp_ms: 88, cls_e4: 1235, fcp_ms: 901, ttfb_ms: 120 }, ageMs: 5000 });
    expect(parseVitals({ lcp: 2500, cls: 0 })).toEqual({ vitals: { lcp_ms: 2500, inp_ms: null, cls_e4: 0, fcp_ms: null, ttfb_ms: null }, ageMs: null });
  });

  it("clamps values past their cap and refuses what is not a non-negative number", () => {
    expect(parseVitals({ l: 1e12, c: 1e6 })).toMatchObject({ vitals: { lcp_ms: 3_600_000, cls_e4: 1_000_000 } });
    for (const bad of [{ l: -1 }, { c: "0.1" }, { i: Infinity }, { f: NaN }, { t: [1] }, { l: {} }, { l: 1, a: -1 }, { l: 1, age: "1" }, {}, { x: 1 }, null, [], "l=1"]) {
      const result = parseVitals(bad);
      expect(isDrop(result) && result.status, JSON.stringify(bad)).toBe(400);
    }
  });
});

describe("web vitals reports", () => {
  afterEach(() => vi.restoreAllMocks());

  it("keep one row per page view with the last values, and no event", async () => {
    const siteId = await createSite("vitals-last.test");
    expect((await send("vitals-last.test", "pageview", "/a")).status).toBe(202);
    expect((await send("vitals-last.test", "pageview", "/b")).status).toBe(202);
    // /a's report arrives after /b's pageview: it still belongs to /a's view.
    expect((await send("vitals-last.test", "web-vitals", "/a", { t: 80, f: 300, l: 900, c: 0.05 })).status).toBe(202);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    // A later report (the page was shown again and shifted more, an interaction happened).
    expect((await send("vitals-last.test", "web-vitals", "/a", { t: 80, f: 300, l: 900, c: 0.25, i: 240 })).status).toBe(202);
    expect((await send("vitals-last.test", "web-vitals", "/b", { t: 50, f: 200 })).status).toBe(202);
    expect((await send("vitals-last.test", "web-vitals", "/b", { t: 50, f: 200, l: 400, c: 0 })).status).toBe(202);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);

    const events = await rows<{ id: string; ts: number; pathname: string; name: string }>("events", siteId);
    expect(events.map((e) => e.name)).toEqual(["pageview", "pageview"]);
    const vitals = await vitalsRows(siteId);
    expect(vitals).toEqual([
      { site_id: siteId, ts: events[0]!.ts, event_id: events[0]!.id, lcp_ms: 900, inp_ms: 240, cls_e4: 2500, fcp_ms: 300, ttfb_ms: 80 },
      { site_id: siteId, ts: events[1]!.ts, event_id: events[1]!.id, lcp_ms: 400, inp_ms: null, cls_e4: 0, fcp_ms: 200, ttfb_ms: 50 },
    ]);
    // Neither the visit's counters nor its bounce moved.
    const [session] = await rows<{ pageviews: number; events: number }>("sessions", siteId);
    expect(session).toMatchObject({ pageviews: 2, events: 0 });
  });

  it("answer a malformed report with a 400 and its reason, and hostile values never with a 500", async () => {
    await createSite("vitals-bad.test");
    const bad = await send("vitals-bad.test", "web-vitals", "/", { l: "slow" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "invalid", message: "props.lcp must be a non-negative number" });
    expect((await send("vitals-bad.test", "web-vitals", "/", {})).status).toBe(400);
    expect((await send("vitals-bad.test", "web-vitals", "/")).status).toBe(400);
    // JSON's 1e400 is Infinity once parsed.
    const infinite = await postEvent('{"n":"web-vitals","u":"https://vitals-bad.test/","d":"vitals-bad.test","p":{"l":1e400}}');
    expect(infinite.status).toBe(400);
    for (const props of [{ l: -0.5 }, { c: [0.1] }, { i: { valueOf: 5 } }, { t: true }, { f: 1e308, l: Number.MAX_SAFE_INTEGER }]) {
      const response = await send("vitals-bad.test", "web-vitals", "/", props);
      expect([202, 400], JSON.stringify(props)).toContain(response.status);
    }
  });

  it("belong to the view of their page that began when the report's age says", async () => {
    const siteId = await createSite("vitals-age.test");
    const stub = siteStub(siteId);
    const client = { ip: "198.51.100.9", userAgent: CHROME_UA };
    const t0 = Date.now() - 120_000;
    const view = (ts: number, name = "pageview") => collectedEvent({ site_id: siteId, pathname: "/a", ts, name });
    await ingestOk(stub, view(t0), client);
    await ingestOk(stub, view(t0 + 60_000), client); // the page again (a bfcache restore)
    // The first view's report, sent as it entered the cache, reaches us after the second pageview.
    const late = { ...view(t0 + 60_500, "web-vitals"), interactive: false, view_age_ms: 60_300 };
    await ingestOk(stub, { ...late, vitals: { lcp_ms: 800, inp_ms: null, cls_e4: 100, fcp_ms: 500, ttfb_ms: 90 } }, client);
    const own = { ...view(t0 + 70_000, "web-vitals"), interactive: false, view_age_ms: 10_000 };
    await ingestOk(stub, { ...own, vitals: { lcp_ms: 30, inp_ms: null, cls_e4: 0, fcp_ms: 30, ttfb_ms: 0 } }, client);
    expect(await drainOutbox(stub)).toBe(true);
    expect((await vitalsRows(siteId)).map((row) => [row.ts - t0, row.lcp_ms])).toEqual([[0, 800], [60_000, 30]]);
  });

  it("are a no-op without a page view of their page to belong to", async () => {
    const siteId = await createSite("vitals-orphan.test");
    expect((await send("vitals-orphan.test", "web-vitals", "/", { f: 100 })).status).toBe(202);
    // A view of another page does not take them either.
    expect((await send("vitals-orphan.test", "pageview", "/other")).status).toBe(202);
    expect((await send("vitals-orphan.test", "web-vitals", "/", { f: 100 })).status).toBe(202);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    expect(await vitalsRows(siteId)).toEqual([]);
  });

  it("stay in the outbox while D1 fails and arrive once it answers", async () => {
    const siteId = await createSite("vitals-outage.test");
    const stub = siteStub(siteId);
    await send("vitals-outage.test", "pageview", "/p");
    await send("vitals-outage.test", "web-vitals", "/p", { f: 120, l: 700 });
    let flaky!: ReturnType<typeof flakyD1>;
    await runInDurableObject(stub, (instance: SiteDO) => {
      instance.flushDb = (flaky = flakyD1(instance.flushDb, 2, { commitThenFail: true })).db;
    });
    vi.spyOn(console, "error").mockImplementation(() => {});
    await runDurableObjectAlarm(stub); // committed, then "failed": replayed below
    await send("vitals-outage.test", "web-vitals", "/p", { f: 120, l: 700, c: 0.3 });
    await runDurableObjectAlarm(stub); // failed again
    expect(await drainOutbox(stub)).toBe(true);
    expect(flaky.calls.failed).toBe(2);
    expect(await vitalsRows(siteId)).toMatchObject([{ lcp_ms: 700, fcp_ms: 120, cls_e4: 3000 }]);
  });
});
