// POST /api/ingest/bulk in workerd: token checks, per-event results, exactly-once on retry,
// events' own times for sessions, and hostile values.
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hashToken } from "../src/collector/bulk/token";
import { flushDropCounts } from "../src/collector/ingest/drop-counter";
import { CHROME_UA, createSite, drainOutbox, rows, siteStub, surrogateColumns } from "./helpers";

const URL_BULK = "https://collector.test/api/ingest/bulk";
const MINUTE = 60_000;

interface Result {
  index: number;
  idempotency_key: string | null;
  outcome: string;
  message?: string;
}

/** Stores a token row as the dashboard would and returns its secret. */
async function token(siteIds: string[], scopes: string[], { revoked = false } = {}): Promise<string> {
  const secret = `a941_t_${crypto.randomUUID().replaceAll("-", "")}`;
  await env.DB.prepare(
    "INSERT INTO api_tokens (id, token_hash, prefix, name, site_ids, scopes, created_at, revoked_at) VALUES (?, ?, ?, 'test', ?, ?, 0, ?)",
  )
    .bind(crypto.randomUUID(), await hashToken(secret), secret.slice(0, 13), JSON.stringify(siteIds), JSON.stringify(scopes), revoked ? 1 : null)
    .run();
  return secret;
}

function post(body: unknown, secret: string | null): Promise<Response> {
  return exports.default.fetch(URL_BULK, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "Content-Type": "application/json", ...(secret ? { Authorization: `Bearer ${secret}` } : {}) },
  });
}

function event(domain: string, i: number, overrides: Record<string, unknown> = {}) {
  return {
    name: "pageview",
    url: `https://${domain}/page/${i % 7}`,
    domain,
    timestamp: Date.now() - 30 * MINUTE + (i % 600) * 1000,
    ip: `198.51.${(i >> 8) & 255}.${i & 255}`,
    user_agent: CHROME_UA,
    idempotency_key: `k-${i}`,
    ...overrides,
  };
}

async function results(response: Response): Promise<Result[]> {
  expect(response.status).toBe(202);
  return ((await response.json()) as { results: Result[] }).results;
}

describe("bulk ingestion", () => {
  it("counts a 1,000-event batch exactly once when it is retried", async () => {
    const domain = "bulk-once.test";
    const siteId = await createSite(domain);
    const secret = await token([siteId], ["ingest"]);
    const batch = { events: Array.from({ length: 1000 }, (_, i) => event(domain, i)) };
    const first = await results(await post(batch, secret));
    expect(first.filter((r) => r.outcome === "accepted")).toHaveLength(1000);
    expect(first.map((r) => r.index)).toEqual(batch.events.map((_, i) => i));
    // The retry (the answer was lost, say) and a third try after the flush: nothing new.
    const retry = await results(await post(batch, secret));
    expect(new Set(retry.map((r) => r.outcome))).toEqual(new Set(["duplicate"]));
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    const again = await results(await post(batch, secret));
    expect(again.every((r) => r.outcome === "duplicate")).toBe(true);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    expect(await rows("events", siteId)).toHaveLength(1000);
    // Keys are unique per site, in the DO's storage, committed with the events.
    const kept = await runInDurableObject(siteStub(siteId), (_i, state) => state.storage.sql.exec("SELECT count(*) AS n FROM bulk_keys").one().n);
    expect(kept).toBe(1000);
  });

  it("answers one result per event, in order, with the browser path's rules", async () => {
    const domain = "bulk-results.test";
    const siteId = await createSite(domain, undefined, { excluded_paths: ["/admin/**"] });
    const secret = await token([siteId], ["ingest"]);
    const now = Date.now();
    const batch = [
      event(domain, 1),
      event(domain, 2, { user_agent: "curl/8.4.0" }),
      event(domain, 3, { url: `https://${domain}/admin/x` }),
      event(domain, 4, { url: "https://elsewhere.example/" }),
      event(domain, 5, { timestamp: now - 25 * 60 * MINUTE }),
      event(domain, 6, { timestamp: now + 60 * MINUTE }),
      event(domain, 7, { ip: "not-an-ip" }),
      event(domain, 8, { name: "Signup", props: { plan: "pro" }, revenue: { amount: "12.5", currency: "EUR" }, idempotency_key: undefined }),
      "not an object",
    ];
    const answer = await results(await post({ events: batch }, secret));
    expect(answer.map((r) => r.outcome)).toEqual(["accepted", "bot", "excluded", "wrong_origin", "too_old", "too_new", "invalid", "accepted", "invalid"]);
    expect(answer[7]?.idempotency_key).toBeNull();
    expect(answer[6]?.message).toMatch(/ip/);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    const stored = await rows<{ name: string; ts: number; props: string | null; revenue: number | null; country: string | null; browser: string }>("events", siteId);
    expect(stored.map((r) => r.name).sort()).toEqual(["Signup", "pageview"]);
    const signup = stored.find((r) => r.name === "Signup");
    expect(signup).toMatchObject({ ts: batch[7] && (batch[7] as { timestamp: number }).timestamp, revenue: 12.5, country: null, browser: "Chrome" });
    expect(JSON.parse(signup?.props ?? "{}")).toEqual({ plan: "pro" });
    // The browser path's drops are counted as for /api/event (invalid events name no site yet);
    // refusals of the window are answers to the sender, not counted.
    await flushDropCounts(env.DB);
    const drops = await rows<{ reason: string; count: number }>("ingest_drops", siteId);
    expect(Object.fromEntries(drops.map((d) => [d.reason, d.count]))).toEqual({ bot: 1, excluded: 1, wrong_origin: 1 });
  });

  it("builds visits on the events' own times, whatever the order they are sent in", async () => {
    const domain = "bulk-sessions.test";
    const siteId = await createSite(domain);
    const secret = await token([siteId], ["ingest"]);
    // The visit and the late event on one UTC day (the visitor hash's salt is per day) and in
    // the 24-hour window, whatever the hour the test runs at: today when there is room, else
    // yesterday evening.
    const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    const start = Date.now() - today >= 101 * MINUTE
      ? Math.max(today + 61 * MINUTE, Date.now() - 3 * 60 * MINUTE)
      : today - 3 * 60 * MINUTE;
    const visitor = { ip: "192.0.2.10", user_agent: CHROME_UA };
    const sent = [40, 0, 10, 20].map((offset, i) =>
      event(domain, i, { ...visitor, url: `https://${domain}/p${offset}`, timestamp: start + offset * MINUTE, idempotency_key: `s-${offset}` }),
    );
    expect((await results(await post({ events: sent }, secret))).every((r) => r.outcome === "accepted")).toBe(true);
    // An event from an hour before that visit began belongs to an earlier, closed visit.
    const late = event(domain, 9, { ...visitor, timestamp: start - 60 * MINUTE, idempotency_key: "s-late" });
    expect((await results(await post({ events: [late] }, secret)))[0]?.outcome).toBe("out_of_order");
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    const sessions = await rows<{ started_at: number; ended_at: number; pageviews: number; entry_page: string; exit_page: string }>("sessions", siteId);
    // 0, 10, 20 one visit; 40 is 20 minutes later, within the timeout: the same visit.
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ started_at: start, ended_at: start + 40 * MINUTE, pageviews: 4, entry_page: "/p0", exit_page: "/p40" });
  });

  // The visitor hash takes the salt of the event's own UTC day: an event of yesterday and one of
  // today from the same IP and user agent are two visitors (as they would be in the browser),
  // unless the second continues the first's visit across midnight.
  const midnight = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const awake = Date.now() - midnight > 31 * MINUTE && Date.now() - midnight < 23 * 60 * MINUTE;
  it.skipIf(!awake)("hashes visitors with the salt of each event's own day", async () => {
    const domain = "bulk-days.test";
    const siteId = await createSite(domain);
    const secret = await token([siteId], ["ingest"]);
    const visitor = { ip: "192.0.2.77", user_agent: CHROME_UA };
    const sent = [
      event(domain, 1, { ...visitor, timestamp: midnight - 10 * MINUTE, idempotency_key: "d-1" }),
      event(domain, 2, { ...visitor, timestamp: midnight + 5 * MINUTE, idempotency_key: "d-2" }),
      event(domain, 3, { ...visitor, timestamp: Date.now() - MINUTE, idempotency_key: "d-3" }),
    ];
    expect((await results(await post({ events: sent }, secret))).map((r) => r.outcome)).toEqual(["accepted", "accepted", "accepted"]);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    const stored = await rows<{ ts: number; visitor_id: string; session_id: string }>("events", siteId);
    const [before, after, now] = stored;
    // Across midnight within the timeout: one visit, yesterday's visitor id.
    expect(after?.session_id).toBe(before?.session_id);
    expect(after?.visitor_id).toBe(before?.visitor_id);
    // Later today: a new visit under today's salt, so another visitor id.
    expect(now?.session_id).not.toBe(before?.session_id);
    expect(now?.visitor_id).not.toBe(before?.visitor_id);
  });

  it("refuses requests without a live ingest token for every site named", async () => {
    const domain = "bulk-auth.test";
    const siteId = await createSite(domain);
    const otherId = await createSite("bulk-other.test");
    const body = { events: [event(domain, 1)] };
    expect((await post(body, null)).status).toBe(401);
    expect((await post(body, "a941_t_unknown")).status).toBe(401);
    expect((await post(body, await token([siteId], ["ingest"], { revoked: true }))).status).toBe(401);
    const statsOnly = await post(body, await token([siteId], ["stats", "export"]));
    expect(statsOnly.status).toBe(403);
    expect(await statsOnly.json()).toMatchObject({ code: "insufficient_scope" });
    // A token of another site: refused as a whole, nothing stored for either.
    const foreign = await post({ events: [event("bulk-other.test", 1), event(domain, 2)] }, await token([siteId], ["ingest"]));
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ code: "site_not_allowed" });
    const unknown = await post({ events: [event("no-such-site.test", 1)] }, await token([otherId], ["ingest"]));
    expect(unknown.status).toBe(403);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    expect(await rows("events", siteId)).toHaveLength(0);
  });

  it("answers 400 for a malformed request and 413 past the size limit", async () => {
    const domain = "bulk-malformed.test";
    const secret = await token([await createSite(domain)], ["ingest"]);
    for (const body of ["{", "[]", JSON.stringify({ events: {} }), JSON.stringify({ events: [] }), JSON.stringify({ events: Array.from({ length: 1001 }, (_, i) => event(domain, i)) })]) {
      const response = await post(body, secret);
      expect(response.status, body.slice(0, 30)).toBe(400);
      expect(await response.json()).toMatchObject({ code: "invalid" });
    }
    expect((await post(JSON.stringify({ events: [], pad: "x".repeat(5 * 1024 * 1024) }), secret)).status).toBe(413);
  });

  it("treats hostile values as data or refuses them per event", async () => {
    const domain = "bulk-hostile.test";
    const siteId = await createSite(domain);
    const secret = await token([siteId], ["ingest"]);
    const lone = "\ud800";
    const answer = await results(
      await post(
        {
          events: [
            event(domain, 1, { name: `x${lone}`, props: JSON.parse('{"__proto__": "p", "k": "v\\ud800"}'), idempotency_key: `k${lone}` }),
            event(domain, 2, { timestamp: "1700000000000" }),
            event(domain, 3, { timestamp: 1.5 }),
            event(domain, 4, { idempotency_key: "k".repeat(201) }),
            event(domain, 5, { user_agent: "u".repeat(1001) }),
            event(domain, 6, { domain: `${domain},other.test` }),
            event(domain, 7, { name: "engagement" }),
            event(domain, 8, { ip: "1.2.3.4, 5.6.7.8" }),
            event(domain, 9, { url: "data:text/html,<script>" }),
          ],
        },
        secret,
      ),
    );
    expect(answer.map((r) => r.outcome)).toEqual(["accepted", "invalid", "invalid", "invalid", "invalid", "invalid", "invalid", "accepted", "invalid"]);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    expect(await surrogateColumns(siteId)).toEqual({});
  });
});
