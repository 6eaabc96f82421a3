// The outbox is loss-free and idempotent: D1 outages keep rows and re-arm the alarm with
// backoff, replays insert nothing twice, big backlogs drain in bounded batches, and nothing is
// written for a deleted site or past a site's retention.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CollectedEvent } from "../src/contract";
import { FLUSH_BATCH_ROWS, MAX_JSON_PARAM_BYTES, migrateOutbox, outboxSize } from "../src/site-do/outbox";
import { MAX_FLUSH_BACKOFF_MS, type SiteDO } from "../src/site-do/site-do";
import { CHROME_UA, collectedEvent, createSite, drainOutbox, flakyD1, postEvent, rows, siteStub } from "./helpers";

type Stub = ReturnType<typeof siteStub>;

const outbox = (stub: Stub) => runInDurableObject(stub, (_instance, state) => outboxSize(state.storage.sql));
const alarmAt = (stub: Stub) => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
/** Swaps the DO's flush target for a wrapper built around its own D1 binding. */
const wrapDb = (stub: Stub, wrap: (db: D1Database, instance: SiteDO) => D1Database) =>
  runInDurableObject(stub, (instance: SiteDO) => {
    instance.flushDb = wrap(instance.flushDb, instance);
  });

/** A D1 proxy whose batch() runs `before` first, then the real batch. */
function beforeBatch(db: D1Database, before: (statements: D1PreparedStatement[]) => Promise<unknown> | void): D1Database {
  return new Proxy(db, {
    get(target, property) {
      if (property === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          await before(statements);
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function pageview(domain: string, path: string) {
  return postEvent({ n: "pageview", u: `https://${domain}${path}`, d: domain });
}

function event(siteId: string, ts: number, index: number): CollectedEvent {
  return collectedEvent({ ts, site_id: siteId, hostname: "bulk.test", pathname: `/${index}`, channel: "Direct" });
}

describe("outbox", () => {
  // Failed flushes are logged; capture the log so tests can assert on it (and stay quiet).
  const quietErrors = () => vi.spyOn(console, "error").mockImplementation(() => {});
  afterEach(() => vi.restoreAllMocks());

  it("keeps every event through D1 failures, re-arms with backoff, then delivers each exactly once", async () => {
    const siteId = await createSite("outage.test");
    const stub = siteStub(siteId);
    for (const path of ["/a", "/b", "/c"]) expect((await pageview("outage.test", path)).status).toBe(202);
    let flaky!: ReturnType<typeof flakyD1>;
    await wrapDb(stub, (db) => (flaky = flakyD1(db, 3)).db);

    const errors = quietErrors();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      const at = await alarmAt(stub);
      expect(at).not.toBeNull(); // re-armed after the failure
      delays.push((at as number) - Date.now());
      expect(await rows("events", siteId)).toHaveLength(0);
      // Traffic keeps arriving during the outage.
      expect((await pageview("outage.test", `/during-${attempt}`)).status).toBe(202);
    }
    expect(flaky.calls.failed).toBe(3);
    expect(errors.mock.calls.map((call) => String(call[0]))).toEqual([1, 2, 3].map((n) => expect.stringContaining(`outbox flush failed (attempt ${n})`)));
    expect((await outbox(stub)).events).toBe(6);
    // Exponential backoff: each retry waits longer than the one before, within the cap.
    expect(delays[1]).toBeGreaterThan(delays[0] as number);
    expect(delays[2]).toBeGreaterThan(delays[1] as number);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_FLUSH_BACKOFF_MS);

    expect(await runDurableObjectAlarm(stub)).toBe(true); // D1 is back
    const events = await rows("events", siteId);
    expect(events.map((e) => e.pathname).sort()).toEqual(["/a", "/b", "/c", "/during-1", "/during-2", "/during-3"]);
    expect(new Set(events.map((e) => e.id)).size).toBe(6);
    expect(await outbox(stub)).toEqual({ events: 0, sessions: 0, engagements: 0, vitals: 0 });
    const [session] = await rows("sessions", siteId);
    expect(session).toMatchObject({ pageviews: 6, exit_page: "/during-3" });
    // Nothing left to flush: the only alarm left is the expiry of today's salt (the day after tomorrow).
    const DAY = 86_400_000;
    expect(await alarmAt(stub)).toBe(Math.floor(Date.now() / DAY) * DAY + 2 * DAY);
  });

  it("is idempotent when D1 committed a batch but the answer was lost", async () => {
    const siteId = await createSite("replay.test");
    const stub = siteStub(siteId);
    for (const path of ["/1", "/2"]) await pageview("replay.test", path);
    let flaky!: ReturnType<typeof flakyD1>;
    await wrapDb(stub, (db) => (flaky = flakyD1(db, 1, { commitThenFail: true })).db);

    quietErrors();
    await runDurableObjectAlarm(stub); // commits, then "fails"
    expect(await rows("events", siteId)).toHaveLength(2);
    expect((await outbox(stub)).events).toBe(2); // so the rows stay and are sent again
    await runDurableObjectAlarm(stub);
    expect(flaky.calls.batch).toBe(2);
    expect(await rows("events", siteId)).toHaveLength(2);
    expect(await rows("sessions", siteId)).toHaveLength(1);
    expect(await outbox(stub)).toEqual({ events: 0, sessions: 0, engagements: 0, vitals: 0 });
  });

  it("keeps a session snapshot that changed while a flush awaited D1", async () => {
    const siteId = await createSite("interleave.test");
    const stub = siteStub(siteId);
    await pageview("interleave.test", "/first");
    // Another event of the same visitor arrives while the flush awaits D1.
    let interleaved = false;
    await wrapDb(stub, (db, instance) =>
      beforeBatch(db, async () => {
        if (interleaved) return;
        interleaved = true;
        const mid = { ...event(siteId, Date.now(), 0), hostname: "interleave.test", pathname: "/second" };
        await instance.ingest(mid, { ip: "203.0.113.7", userAgent: CHROME_UA });
      }),
    );
    await runDurableObjectAlarm(stub);

    expect(await rows("events", siteId)).toHaveLength(1);
    expect((await rows("sessions", siteId))[0]).toMatchObject({ pageviews: 1 });
    expect(await outbox(stub)).toEqual({ events: 1, sessions: 1, engagements: 0, vitals: 0 }); // newer snapshot kept
    expect(await alarmAt(stub)).not.toBeNull();

    await runDurableObjectAlarm(stub);
    expect(await rows("events", siteId)).toHaveLength(2);
    expect((await rows("sessions", siteId))[0]).toMatchObject({ pageviews: 2, exit_page: "/second" });
  });

  it("drains a large backlog in bounded batches, re-arming at once while rows remain", async () => {
    const siteId = await createSite("bulk.test");
    const stub = siteStub(siteId);
    const total = FLUSH_BATCH_ROWS * 2 + 17;
    const t0 = Date.UTC(2026, 10, 20, 12);
    // Concurrent, so they share group commits and finish before the flush alarm is due.
    await runInDurableObject(stub, (instance: SiteDO) =>
      Promise.all(Array.from({ length: total }, (_, i) =>
        instance.ingest(event(siteId, t0 + i, i), { ip: `10.0.${i >> 8}.${i & 255}`, userAgent: CHROME_UA }))),
    );
    const batches: D1PreparedStatement[][] = [];
    await wrapDb(stub, (db) => beforeBatch(db, (statements) => void batches.push(statements)));

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rows("events", siteId)).toHaveLength(FLUSH_BATCH_ROWS);
    expect(await alarmAt(stub)).toBeLessThanOrEqual(Date.now()); // immediately due
    expect(await drainOutbox(stub)).toBe(true);
    expect(batches).toHaveLength(3);
    expect(await rows("events", siteId)).toHaveLength(total);
    expect(await rows("sessions", siteId)).toHaveLength(total);

    // Rows travel as one JSON parameter per statement: a flush is a few statements, each far
    // inside D1's 100 bound parameters and 100 KB per statement.
    expect(batches[0]?.length).toBeLessThanOrEqual(Math.ceil((FLUSH_BATCH_ROWS * 2 * 1200) / MAX_JSON_PARAM_BYTES) + 1);
    expect(MAX_JSON_PARAM_BYTES).toBeLessThan(100_000);
  });

  it("writes nothing for a site deleted meanwhile, and drops its outbox instead of retrying", async () => {
    const siteId = await createSite("deleted.test");
    const stub = siteStub(siteId);
    for (const path of ["/a", "/b"]) expect((await pageview("deleted.test", path)).status).toBe(202);
    // The dashboard deletes the site (and every row of it) while the rows wait in the outbox.
    await env.DB.prepare("DELETE FROM sites WHERE id = ?").bind(siteId).run();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rows("events", siteId)).toHaveLength(0);
    expect(await rows("sessions", siteId)).toHaveLength(0);
    expect(await outbox(stub)).toEqual({ events: 0, sessions: 0, engagements: 0, vitals: 0 });
  });

  it("writes no row already past the site's retention, and every row within it", async () => {
    const siteId = await createSite("retained.test");
    await env.DB.prepare("UPDATE sites SET retention_days = 2 WHERE id = ?").bind(siteId).run();
    const stub = siteStub(siteId);
    const now = Date.now();
    const client = { ip: "203.0.113.9", userAgent: CHROME_UA };
    // A flush after a long outage: one row is three days old, one is a day old.
    await runInDurableObject(stub, async (instance: SiteDO) => {
      await instance.ingest(event(siteId, now - 3 * 86_400_000, 1), client);
      await instance.ingest(event(siteId, now - 86_400_000, 2), { ...client, ip: "203.0.113.10" });
    });
    expect(await drainOutbox(stub)).toBe(true);
    expect((await rows("events", siteId)).map((e) => e.pathname)).toEqual(["/2"]);
    expect((await rows<{ entry_page: string }>("sessions", siteId)).map((s) => s.entry_page)).toEqual(["/2"]);
  });
  it("still delivers rows an older version stored as JSON objects", async () => {
    const siteId = await createSite("legacy-rows.test");
    const stub = siteStub(siteId);
    const old = { ...event(siteId, Date.now(), 1), visitor_id: "v-legacy", session_id: "s-legacy" };
    const session = {
      ...old, id: "s-legacy", started_at: old.ts, ended_at: old.ts, entry_page: "/1", exit_page: "/1",
      pageviews: 1, events: 0, duration_ms: 0, is_bounce: 1,
    };
    await runInDurableObject(stub, async (_instance, state) => {
      await state.storage.setAlarm(Date.now());
      state.storage.sql.exec("INSERT INTO event_outbox (seq, id, row) VALUES (1, ?, ?)", old.id, JSON.stringify(old));
      state.storage.sql.exec("INSERT INTO session_outbox (session_id, seq, row) VALUES (?, 1, ?)", session.id, JSON.stringify(session));
    });
    expect(await drainOutbox(stub)).toBe(true);
    expect(await rows("events", siteId)).toEqual([expect.objectContaining({ id: old.id, pathname: "/1", visitor_id: "v-legacy", session_id: "s-legacy" })]);
    expect(await rows("sessions", siteId)).toEqual([expect.objectContaining({ id: "s-legacy", pageviews: 1, is_bounce: 1 })]);
  });

  it("engagement queued before events were keyed by (site_id, ts, id) still reaches its pageview", async () => {
    const siteId = await createSite("legacy-engaged.test");
    const stub = siteStub(siteId);
    expect((await pageview("legacy-engaged.test", "/read")).status).toBe(202);
    expect(await drainOutbox(stub)).toBe(true);
    const [stored] = await rows<{ id: string; engaged_ms: number | null }>("events", siteId);
    // The outbox as an older Worker left it: engagement rows name the event id only.
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE engagement_outbox");
      sql.exec(`CREATE TABLE engagement_outbox (event_id TEXT PRIMARY KEY, seq INTEGER NOT NULL,
        engaged_ms INTEGER NOT NULL, scroll_depth INTEGER NOT NULL)`);
      sql.exec("INSERT INTO engagement_outbox VALUES (?, 1000000, 4321, 75)", stored!.id);
      migrateOutbox(sql);
    });
    expect(await drainOutbox(stub)).toBe(true);
    expect(await rows("events", siteId)).toEqual([expect.objectContaining({ id: stored!.id, engaged_ms: 4321, scroll_depth: 75 })]);
  });
});
