// "Visitors now" comes from the DO's live sessions (their last_seen), not a table of its own:
// an engagement report keeps a reader counted, an older DO's live_sessions gains the column.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ClientInfo, CollectedEvent } from "../src/contract";
import { readSnapshot } from "../src/site-do/realtime/state";
import { migrateSiteStorage, pruneLiveSessions } from "../src/site-do/site-storage";
import type { SiteDO } from "../src/site-do/site-do";
import { CHROME_UA, collectedEvent, createSite, ingestOk, siteStub } from "./helpers";

const CLIENT: ClientInfo = { ip: "198.51.100.40", userAgent: CHROME_UA };
const MINUTE = 60_000;

function pageview(siteId: string, ts: number, pathname = "/read"): CollectedEvent {
  return collectedEvent({ site_id: siteId, pathname, ts });
}

describe("visitors now", () => {
  it("counts a reader whose engagement reports are recent though the pageview is not", async () => {
    const siteId = await createSite("lv-engaged.test");
    const stub = siteStub(siteId);
    const now = Date.now();
    await ingestOk(stub, pageview(siteId, now - 8 * MINUTE), CLIENT);
    const before = await runInDurableObject(stub, (_i: SiteDO, s) => readSnapshot(s.storage.sql, now).visitors);
    const report = collectedEvent({ site_id: siteId, pathname: "/read", ts: now - MINUTE, name: "engagement", engaged_ms: 420_000, scroll_depth: 80, interactive: false });
    await ingestOk(stub, report, CLIENT);
    const after = await runInDurableObject(stub, (_i: SiteDO, s) => readSnapshot(s.storage.sql, now).visitors);
    expect([before, after]).toEqual([0, 1]);
  });

  it("gives a live_sessions table made before last_seen the column, filled from the sessions", async () => {
    const siteId = await createSite("lv-migrate.test");
    const stub = siteStub(siteId);
    const now = Date.now();
    const visitors = await runInDurableObject(stub, (_i: SiteDO, s) => {
      const sql = s.storage.sql;
      sql.exec("DROP TABLE live_sessions");
      sql.exec("CREATE TABLE live_sessions (visitor_id TEXT PRIMARY KEY, ended_at INTEGER NOT NULL, session TEXT NOT NULL)");
      sql.exec("INSERT INTO live_sessions VALUES ('recent', ?, ?)", now - 9 * MINUTE, JSON.stringify({ last_seen: now - MINUTE }));
      sql.exec("INSERT INTO live_sessions VALUES ('old', ?, ?)", now - 9 * MINUTE, JSON.stringify({}));
      migrateSiteStorage(sql);
      return readSnapshot(sql, now).visitors;
    });
    expect(visitors).toBe(1);
  });

  it("keeps through a prune a visit whose last event is old but whose engagement reports are not", async () => {
    const siteId = await createSite("lv-prune.test");
    const stub = siteStub(siteId);
    const now = Date.now();
    // Reading for 40 minutes: the pageview is older than the timeout, the last report is not.
    await ingestOk(stub, pageview(siteId, now - 40 * MINUTE), CLIENT);
    for (const [ago, engaged] of [[20, 1_200_000], [1, 2_340_000]] as const) {
      const report = collectedEvent({ site_id: siteId, pathname: "/read", ts: now - ago * MINUTE, name: "engagement", engaged_ms: engaged, scroll_depth: 90, interactive: false });
      await ingestOk(stub, report, CLIENT);
    }
    // Another visitor's pageview now: the newest activity the prune measures from.
    await ingestOk(stub, pageview(siteId, now, "/other"), { ip: "198.51.100.41", userAgent: CHROME_UA });
    const visitors = await runInDurableObject(stub, (_i: SiteDO, s) => {
      pruneLiveSessions(s.storage.sql);
      return readSnapshot(s.storage.sql, now).visitors;
    });
    expect(visitors).toBe(2);
  });
});
