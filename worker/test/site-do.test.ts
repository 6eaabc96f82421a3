// SiteDO sessions and visitor hashes, driven through the RPC stub with explicit timestamps.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ClientInfo, CollectedEvent } from "../src/contract";
import { utcDay } from "../src/site-do/visitor-hash";
import { readAnswer } from "../src/site-do/ingest-answer";
import { CHROME_UA, collectedEvent, createSite, ingestOk, postEvent, rows, siteStub } from "./helpers";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
// Noon (UTC) of the real current day: the alarm deletes salts older than yesterday by the wall
// clock, so events of a fixed past day would lose their salt at the first flush.
const T0 = Math.floor(Date.now() / DAY) * DAY + 12 * 60 * MINUTE;
const CLIENT: ClientInfo = { ip: "198.51.100.23", userAgent: CHROME_UA };

function event(siteId: string, ts: number, pathname: string, name = "pageview"): CollectedEvent {
  return collectedEvent({
    ts, site_id: siteId, name, hostname: "do.test", pathname, channel: "Direct",
    country: "NL", device: "desktop", browser: "Chrome", browser_version: "131",
    os: "Windows", os_version: "10", screen: "desktop",
  });
}

describe("SiteDO sessions", () => {
  it("continues a session within 30 minutes and starts a new one after 31", async () => {
    const siteId = await createSite("sessions.test");
    const stub = siteStub(siteId);
    const first = await ingestOk(stub, event(siteId, T0, "/"), CLIENT);
    const second = await ingestOk(stub, event(siteId, T0 + 10 * MINUTE, "/docs"), CLIENT);
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.visitorId).toBe(first.visitorId);

    const third = await ingestOk(stub, event(siteId, T0 + 41 * MINUTE, "/again"), CLIENT);
    expect(third.sessionId).not.toBe(first.sessionId);
    expect(third.visitorId).toBe(first.visitorId); // same day, same visitor

    await runDurableObjectAlarm(stub);
    const sessions = await rows("sessions", siteId);
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toMatchObject({
      id: first.sessionId, started_at: T0, ended_at: T0 + 10 * MINUTE, duration_ms: 10 * MINUTE,
      entry_page: "/", exit_page: "/docs", pageviews: 2, is_bounce: 0,
    });
    expect(sessions[1]).toMatchObject({ id: third.sessionId, pageviews: 1, is_bounce: 1, entry_page: "/again" });
    const events = await rows("events", siteId);
    expect(events.map((e) => e.session_id)).toEqual([first.sessionId, first.sessionId, third.sessionId]);
  });

  it("ends a bounce with an interactive custom event but not with a non-interactive one", async () => {
    const siteId = await createSite("bounce.test");
    const stub = siteStub(siteId);
    const quiet = await ingestOk(stub, event(siteId, T0, "/"), CLIENT);
    await ingestOk(stub, { ...event(siteId, T0 + MINUTE, "/", "scroll"), interactive: false }, CLIENT);
    const other = { ip: "198.51.100.99", userAgent: CHROME_UA };
    const busy = await ingestOk(stub, event(siteId, T0, "/"), other);
    await ingestOk(stub, event(siteId, T0 + MINUTE, "/", "Signup"), other);
    await runDurableObjectAlarm(stub);
    const byId = new Map((await rows("sessions", siteId)).map((s) => [s.id, s]));
    expect(byId.get(quiet.sessionId)).toMatchObject({ pageviews: 1, events: 1, is_bounce: 1 });
    expect(byId.get(busy.sessionId)).toMatchObject({ pageviews: 1, events: 1, is_bounce: 0 });
  });

  it("keeps attribution of the session's first event on later events", async () => {
    const siteId = await createSite("attribution.test");
    const stub = siteStub(siteId);
    await ingestOk(stub, { ...event(siteId, T0, "/"), source: "news.example", channel: "Referral" }, CLIENT);
    await ingestOk(stub, { ...event(siteId, T0 + MINUTE, "/next"), country: "FR" }, CLIENT);
    await runDurableObjectAlarm(stub);
    const events = await rows("events", siteId);
    expect(events.map((e) => [e.source, e.channel, e.country])).toEqual([
      ["news.example", "Referral", "NL"],
      ["news.example", "Referral", "NL"],
    ]);
  });

  it("keeps sessions across DO eviction", async () => {
    const siteId = await createSite("evict.test");
    const stub = siteStub(siteId);
    const first = await ingestOk(stub, event(siteId, T0, "/"), CLIENT);
    const { evictDurableObject } = await import("cloudflare:test");
    await evictDurableObject(stub);
    const second = await ingestOk(stub, event(siteId, T0 + MINUTE, "/b"), CLIENT);
    expect(second.sessionId).toBe(first.sessionId);
  });
});

describe("visitor hash", () => {
  it("is stable within a UTC day and changes on the next day", async () => {
    const siteId = await createSite("hash.test");
    const stub = siteStub(siteId);
    const morning = await ingestOk(stub, event(siteId, T0 - 6 * 60 * MINUTE, "/"), CLIENT);
    const noon = await ingestOk(stub, event(siteId, T0 + 3 * 60 * MINUTE, "/"), CLIENT);
    expect(noon.visitorId).toBe(morning.visitorId);
    const otherUa = await ingestOk(stub, event(siteId, T0, "/"), { ...CLIENT, userAgent: "Other/1.0" });
    expect(otherUa.visitorId).not.toBe(morning.visitorId);
    const nextDay = await ingestOk(stub, event(siteId, T0 + 24 * 60 * MINUTE, "/"), CLIENT);
    expect(nextDay.visitorId).not.toBe(morning.visitorId);
  });

  it("continues a session across UTC midnight under the first day's hash", async () => {
    const siteId = await createSite("midnight.test");
    const stub = siteStub(siteId);
    const midnight = Date.UTC(2026, 10, 21);
    const before = await ingestOk(stub, event(siteId, midnight - 5 * MINUTE, "/"), CLIENT);
    const after = await ingestOk(stub, event(siteId, midnight + 5 * MINUTE, "/late"), CLIENT);
    expect(after.sessionId).toBe(before.sessionId);
    expect(after.visitorId).toBe(before.visitorId);
    // After the timeout the new day's hash applies.
    const later = await ingestOk(stub, event(siteId, midnight + 60 * MINUTE, "/"), CLIENT);
    expect(later.sessionId).not.toBe(before.sessionId);
    expect(later.visitorId).not.toBe(before.visitorId);
  });

  it("keeps only today's and yesterday's salt", async () => {
    const siteId = await createSite("salts.test");
    const stub = siteStub(siteId);
    for (let day = 0; day < 4; day++) await ingestOk(stub, event(siteId, T0 + day * 24 * 60 * MINUTE, "/"), CLIENT);
    const days = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ day: string }>("SELECT day FROM salts ORDER BY day").toArray().map((r) => r.day),
    );
    expect(days).toEqual([utcDay(T0 + 2 * DAY), utcDay(T0 + 3 * DAY)]);
  });

  it("deletes an idle site's old salts in the alarm and re-arms it for the next expiry", async () => {
    const siteId = await createSite("idle-salts.test");
    const stub = siteStub(siteId);
    const salts = () =>
      runInDurableObject(stub, (_instance, state) =>
        state.storage.sql.exec<{ day: string }>("SELECT day FROM salts ORDER BY day").toArray().map((r) => r.day),
      );
    const alarmAt = () => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    const now = Date.now();
    const today = Math.floor(now / DAY) * DAY;
    // The last event was three days ago; no event comes after it.
    await ingestOk(stub, event(siteId, now - 3 * DAY, "/"), CLIENT);
    expect(await salts()).toEqual([utcDay(now - 3 * DAY)]);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await salts()).toEqual([]);
    expect(await alarmAt()).toBeNull(); // nothing left to expire: an idle DO stays asleep

    // Yesterday's and today's salts: the alarm after the flush is set for yesterday's expiry.
    await ingestOk(stub, event(siteId, now - DAY, "/"), CLIENT);
    await ingestOk(stub, event(siteId, now, "/"), CLIENT);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await salts()).toEqual([utcDay(now - DAY), utcDay(now)]);
    expect(await alarmAt()).toBe(today + DAY);
    // A new event does not wait for that alarm: its flush is armed as usual.
    await ingestOk(stub, event(siteId, now + 1, "/later"), CLIENT);
    expect(await alarmAt()).toBeLessThanOrEqual(Date.now() + 1000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await rows("events", siteId)).map((e) => e.pathname)).toEqual(["/", "/", "/", "/later"]);
  });

  it("stores no IP and no user agent in any D1 or DO table", async () => {
    const siteId = await createSite("privacy.test");
    const ip = "203.0.113.7"; // what postEvent sends as CF-Connecting-IP
    expect((await postEvent({ n: "pageview", u: "https://privacy.test/", d: "privacy.test" })).status).toBe(202);
    const stub = siteStub(siteId);
    const doDump = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray();
      return JSON.stringify(tables.map(({ name }) => sql.exec(`SELECT * FROM "${name}"`).toArray()));
    });
    await runDurableObjectAlarm(stub);
    const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_%' ESCAPE '\\'").all<{ name: string }>();
    const d1Dump = JSON.stringify(
      await Promise.all(tables.results.map(({ name }) => env.DB.prepare(`SELECT * FROM "${name}"`).all().then((r) => r.results))),
    );
    // The dumps hold the data (so the assertions below are not vacuous), but no IP or UA.
    expect(doDump).toContain(siteId);
    expect(d1Dump).toContain(siteId);
    for (const dump of [doDump, d1Dump]) {
      expect(dump).not.toContain(ip);
      expect(dump).not.toContain(CHROME_UA);
      expect(dump).not.toContain("AppleWebKit");
    }
  });
});

describe("engagement and bounces", () => {
  const SETTINGS = { rateLimitVisitor: 0, rateLimitIp: 0, rateLimitSite: 0, bounceThresholdMs: 10_000, database: "DB" };
  const engagement = (siteId: string, ts: number, pathname: string, engaged: number, scroll: number): CollectedEvent => ({
    ...event(siteId, ts, pathname, "engagement"), interactive: false, engaged_ms: engaged, scroll_depth: scroll,
  });

  it("puts engaged time and scroll depth on the pageview and into the session's duration", async () => {
    const siteId = await createSite("engaged.test");
    const stub = siteStub(siteId);
    const first = await ingestOk(stub, event(siteId, T0, "/article"), CLIENT, SETTINGS);
    // Flushed before the report arrives: the report becomes an UPDATE of the D1 row.
    await runDurableObjectAlarm(stub);
    expect((await rows("sessions", siteId))[0]).toMatchObject({ is_bounce: 1, duration_ms: 0 });

    await ingestOk(stub, engagement(siteId, T0 + 4 * MINUTE, "/article", 4 * MINUTE, 60), CLIENT, SETTINGS);
    await ingestOk(stub, engagement(siteId, T0 + 5 * MINUTE, "/article", 5 * MINUTE, 90), CLIENT, SETTINGS);
    // A late, smaller report (out of order) changes nothing.
    await ingestOk(stub, engagement(siteId, T0 + 5 * MINUTE, "/article", 2 * MINUTE, 30), CLIENT, SETTINGS);
    await runDurableObjectAlarm(stub);

    const events = await rows("events", siteId);
    expect(events).toHaveLength(1); // reports update the pageview, they are no rows of their own
    expect(events[0]).toMatchObject({ name: "pageview", engaged_ms: 5 * MINUTE, scroll_depth: 90, session_id: first.sessionId });
    // One page read for five minutes is not a bounce, and the time counts as duration.
    expect((await rows("sessions", siteId))[0]).toMatchObject({ pageviews: 1, is_bounce: 0, duration_ms: 5 * MINUTE });
  });

  it("updates a pageview that is still in the outbox, and the right page after an SPA navigation", async () => {
    const siteId = await createSite("engaged-spa.test");
    const stub = siteStub(siteId);
    await ingestOk(stub, event(siteId, T0, "/a"), CLIENT, SETTINGS);
    await ingestOk(stub, event(siteId, T0 + 20_000, "/b"), CLIENT, SETTINGS);
    // The report for /a arrives after the pageview of /b.
    await ingestOk(stub, engagement(siteId, T0 + 20_100, "/a", 15_000, 40), CLIENT, SETTINGS);
    await ingestOk(stub, engagement(siteId, T0 + 50_000, "/b", 30_000, 100), CLIENT, SETTINGS);
    await runDurableObjectAlarm(stub);
    const events = await rows("events", siteId);
    expect(events.map((e) => [e.pathname, e.engaged_ms, e.scroll_depth])).toEqual([["/a", 15_000, 40], ["/b", 30_000, 100]]);
    expect((await rows("sessions", siteId))[0]).toMatchObject({ pageviews: 2, duration_ms: 50_000, exit_page: "/b" });
  });

  it("counts a short single-page visit as a bounce, with the site's own threshold", async () => {
    const siteId = await createSite("threshold.test");
    const stub = siteStub(siteId);
    const strict = { ...SETTINGS, bounceThresholdMs: 30_000 };
    const short = await ingestOk(stub, event(siteId, T0, "/"), CLIENT, strict);
    await ingestOk(stub, engagement(siteId, T0 + 20_000, "/", 20_000, 100), CLIENT, strict);
    const other = { ip: "198.51.100.77", userAgent: CHROME_UA };
    const long = await ingestOk(stub, event(siteId, T0, "/"), other, strict);
    await ingestOk(stub, engagement(siteId, T0 + 40_000, "/", 40_000, 100), other, strict);
    await runDurableObjectAlarm(stub);
    const byId = new Map((await rows("sessions", siteId)).map((s) => [s.id, s]));
    expect(byId.get(short.sessionId)).toMatchObject({ is_bounce: 1, duration_ms: 20_000 });
    expect(byId.get(long.sessionId)).toMatchObject({ is_bounce: 0, duration_ms: 40_000 });
  });

  it("ignores a report without a live session", async () => {
    const siteId = await createSite("orphan.test");
    const result = readAnswer(await siteStub(siteId).ingest(engagement(siteId, T0, "/", 5000, 10), CLIENT, SETTINGS));
    expect(result).toEqual({ visitorId: null, sessionId: null });
  });

  it("keeps a visit going across midnight through engagement reports", async () => {
    const siteId = await createSite("midnight-read.test");
    const stub = siteStub(siteId);
    const midnight = Date.UTC(2026, 10, 21);
    const before = await ingestOk(stub, event(siteId, midnight - 20 * MINUTE, "/long-read"), CLIENT, SETTINGS);
    await ingestOk(stub, engagement(siteId, midnight + 5 * MINUTE, "/long-read", 25 * MINUTE, 80), CLIENT, SETTINGS);
    // 40 minutes after the pageview, but only 15 after the last report: the same visit.
    const after = await ingestOk(stub, event(siteId, midnight + 20 * MINUTE, "/next"), CLIENT, SETTINGS);
    expect(after.sessionId).toBe(before.sessionId);
    expect(after.visitorId).toBe(before.visitorId);
  });
});
