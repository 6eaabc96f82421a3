// Erasure while the person is still browsing (issue 17, docs/privacy.md): the site's DO forgets
// the user's live visit and the rows waiting in its outbox (POST /api/users/:site/forget,
// site-do/forget-user.ts), so after the D1 deletion no flush writes any of it back, another
// visitor's rows are untouched, and the same browser's next event starts a fresh anonymous visit.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signToken } from "../src/collector/realtime/token";
import { USER_HASH_CONTEXT } from "../src/collector/user-hash-route";
import type { CollectedEvent } from "../src/contract";
import { derivedKey } from "../src/reports/tokens";
import { outboxSize } from "../src/site-do/outbox";
import type { SiteDO } from "../src/site-do/site-do";
import { CHROME_UA, collectedEvent, createSite, drainOutbox, ingestOk, siteStub } from "./helpers";

const SECRET = env.REALTIME_SECRET as string;
const ALICE = { ip: "203.0.113.7", userAgent: CHROME_UA };
const BOB = { ip: "198.51.100.23", userAgent: CHROME_UA };
const VITALS = { lcp_ms: 900, inp_ms: null, cls_e4: 10, fcp_ms: 400, ttfb_ms: 80 };

async function call(siteId: string, action: "hash" | "forget", body: unknown, bearer?: string): Promise<Response> {
  const token = bearer ?? (await signToken(await derivedKey(SECRET, USER_HASH_CONTEXT), siteId, Math.floor(Date.now() / 1000) + 60));
  return exports.default.fetch(`https://collector.test/api/users/${encodeURIComponent(siteId)}/${action}`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { Authorization: `Bearer ${token}` },
  });
}

async function hashOf(siteId: string, id: string): Promise<string> {
  return ((await (await call(siteId, "hash", { id })).json()) as { user_id: string }).user_id;
}

/** What analytics_941.user_data.erase_user deletes from D1 (its own tests cover it; here only the rows). */
async function eraseInD1(siteId: string, userId: string): Promise<void> {
  const visits = `SELECT id FROM sessions WHERE site_id = ?1 AND user_id = ?2`;
  await env.DB.batch([
    env.DB.prepare(`DELETE FROM web_vitals WHERE site_id = ?1 AND event_id IN (SELECT id FROM events WHERE site_id = ?1 AND session_id IN (${visits}))`).bind(siteId, userId),
    env.DB.prepare(`DELETE FROM events WHERE site_id = ?1 AND session_id IN (${visits})`).bind(siteId, userId),
    env.DB.prepare(`DELETE FROM sessions WHERE site_id = ?1 AND user_id = ?2`).bind(siteId, userId),
    env.DB.prepare("DELETE FROM user_traits WHERE site = ?1 AND user_id = ?2").bind(siteId, userId),
  ]);
}

/** The site's D1 rows that belong to `sessionIds` or to `userId`, per table. */
async function d1Rows(siteId: string, userId: string, sessionIds: string[]) {
  const ids = JSON.stringify(sessionIds);
  const count = async (sql: string, ...args: unknown[]) => (await env.DB.prepare(sql).bind(...args).first<{ n: number }>())?.n;
  return {
    sessions: await count("SELECT count(*) AS n FROM sessions WHERE site_id = ? AND (user_id = ? OR id IN (SELECT value FROM json_each(?)))", siteId, userId, ids),
    events: await count("SELECT count(*) AS n FROM events WHERE site_id = ? AND session_id IN (SELECT value FROM json_each(?))", siteId, ids),
    vitals: await count(
      "SELECT count(*) AS n FROM web_vitals WHERE site_id = ? AND event_id IN (SELECT id FROM events WHERE session_id IN (SELECT value FROM json_each(?)))",
      siteId,
      ids,
    ),
    traits: await count("SELECT count(*) AS n FROM user_traits WHERE site = ? AND user_id = ?", siteId, userId),
  };
}

/** An identified site's event of `pathname` at `ts` (`id`: identify()'s id, null: anonymous). */
function event(siteId: string, pathname: string, ts: number, id: string | null, fields: Partial<CollectedEvent> = {}): CollectedEvent {
  return collectedEvent({ site_id: siteId, pathname, ts, identity: id === null ? null : { id, traits: [["plan", `plan-of-${id}`]] }, ...fields });
}

describe("POST /api/users/:site/forget", () => {
  it("drops the user's live visit and waiting rows, so the D1 erasure stays final", async () => {
    const siteId = await createSite("forget-live.test");
    const stub = siteStub(siteId);
    const alice = await hashOf(siteId, "alice");
    const bob = await hashOf(siteId, "bob");
    const t0 = Date.now() - 60_000;

    // Alice's visit: its first page is in D1 already, the rest still waits in the outbox.
    const first = await ingestOk(stub, event(siteId, "/", t0, "alice"), ALICE);
    expect(await drainOutbox(stub)).toBe(true);
    const second = event(siteId, "/pricing", t0 + 10_000, "alice");
    await ingestOk(stub, second, ALICE);
    await ingestOk(stub, event(siteId, "/pricing", t0 + 20_000, "alice", { name: "engagement", engaged_ms: 8_000, scroll_depth: 70 }), ALICE);
    await ingestOk(stub, event(siteId, "/pricing", t0 + 21_000, "alice", { name: "web-vitals", interactive: false, vitals: VITALS }), ALICE);
    // Bob browses at the same time: none of his rows may go.
    const bobVisit = await ingestOk(stub, event(siteId, "/", t0 + 5_000, "bob"), BOB);
    await ingestOk(stub, event(siteId, "/docs", t0 + 15_000, "bob"), BOB);
    const waiting = await runInDurableObject(stub, (_instance, state) => outboxSize(state.storage.sql));
    expect(waiting).toMatchObject({ events: 3, engagements: 1, vitals: 1 });

    const res = await call(siteId, "forget", { user_id: alice });
    expect(res.status).toBe(200);
    // Her one visit; its second pageview, snapshot, engagement, vitals and trait row.
    expect(await res.json()).toEqual({ sessions: 1, rows: 5 });
    await eraseInD1(siteId, alice);
    expect(await drainOutbox(stub)).toBe(true);

    expect(await d1Rows(siteId, alice, [first.sessionId])).toEqual({ sessions: 0, events: 0, vitals: 0, traits: 0 });
    expect(await d1Rows(siteId, bob, [bobVisit.sessionId])).toEqual({ sessions: 1, events: 2, vitals: 0, traits: 1 });
    const live = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ user_id: string | null }>("SELECT json_extract(session, '$.user_id') AS user_id FROM live_sessions").toArray().map((row) => row.user_id),
    );
    expect(live).toEqual([bob]);

    // The same browser's next event, without identify(): a fresh visit with no user.
    const next = await ingestOk(stub, event(siteId, "/pricing", t0 + 30_000, null), ALICE);
    expect(next.sessionId).not.toBe(first.sessionId);
    expect(await drainOutbox(stub)).toBe(true);
    const fresh = await env.DB.prepare("SELECT id, user_id, pageviews, entry_page FROM sessions WHERE id = ?").bind(next.sessionId).first();
    expect(fresh).toEqual({ id: next.sessionId, user_id: null, pageviews: 1, entry_page: "/pricing" });
    // Forgetting someone the DO holds nothing of is fine (a second erasure, an old user).
    expect(await (await call(siteId, "forget", { user_id: alice })).json()).toEqual({ sessions: 0, rows: 0 });
  });

  it("answers only after a flush that read the user's rows before has landed", async () => {
    const siteId = await createSite("forget-race.test");
    const stub = siteStub(siteId);
    const carol = await hashOf(siteId, "carol");
    const visit = await ingestOk(stub, event(siteId, "/", Date.now() - 1_000, "carol"), ALICE);
    // The next flush stops at D1 until released. Plain flags, polled with the DO's own timers:
    // a promise settled from the test's context would run the D1 call in the wrong one.
    const gate = { reached: false, released: false };
    await runInDurableObject(stub, (instance: SiteDO) => {
      const db = instance.flushDb;
      instance.flushDb = new Proxy(db, {
        get(target, property) {
          if (property === "batch") {
            return async (statements: D1PreparedStatement[]) => {
              gate.reached = true;
              while (!gate.released) await new Promise((resolve) => setTimeout(resolve, 2));
              return target.batch(statements);
            };
          }
          const value = Reflect.get(target, property, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    });
    const flush = runDurableObjectAlarm(stub);
    while (!gate.reached) await new Promise((resolve) => setTimeout(resolve, 2));
    let answered = false;
    const forgot = call(siteId, "forget", { user_id: carol }).then(async (res) => ((answered = true), res.json()));
    // Give the RPC every chance to answer early.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(answered).toBe(false);
    gate.released = true;
    expect(await forgot).toEqual({ sessions: 1, rows: 3 });
    await flush;
    // What that flush wrote is in D1 before the erasure deletes there: nothing comes after it.
    expect(await d1Rows(siteId, carol, [visit.sessionId])).toMatchObject({ sessions: 1, events: 1 });
    await eraseInD1(siteId, carol);
    expect(await drainOutbox(stub)).toBe(true);
    expect(await d1Rows(siteId, carol, [visit.sessionId])).toEqual({ sessions: 0, events: 0, vitals: 0, traits: 0 });
  });

  it("takes the hash route's token and a 64-hex user hash only", async () => {
    const siteId = await createSite("forget-scope.test");
    const other = await createSite("forget-scope-b.test");
    const otherToken = await signToken(await derivedKey(SECRET, USER_HASH_CONTEXT), other, Math.floor(Date.now() / 1000) + 60);
    expect((await call(siteId, "forget", { user_id: "a".repeat(64) }, "not-a-token")).status).toBe(401);
    expect((await call(siteId, "forget", { user_id: "a".repeat(64) }, otherToken)).status).toBe(403);
    for (const user_id of ["alice", "A".repeat(64), "a".repeat(63), 42, null]) {
      const res = await call(siteId, "forget", { user_id });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "bad_request", message: expect.stringContaining("64") });
    }
    expect((await call("no-such-site", "forget", { user_id: "a".repeat(64) })).status).toBe(404);
  });
});
