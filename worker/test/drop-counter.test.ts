// Drop counts: a failed write to D1 is retried, a bounded number of times, within the same
// waitUntil; counts are never lost while the isolate lives.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { drop } from "../src/collector/ingest/drop";
import { countDrop, flushDropCounts, pendingDrops, scheduleDropFlush } from "../src/collector/ingest/drop-counter";
import { flakyD1, rows } from "./helpers";

describe("scheduleDropFlush", () => {
  beforeEach(async () => void (await flushDropCounts(env.DB)));
  afterEach(() => vi.restoreAllMocks());

  it("retries a failed flush until D1 takes it", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const flaky = flakyD1(env.DB, 2);
    countDrop("drops-retry", drop("invalid", "x"));
    countDrop("drops-retry", drop("invalid", "x"));
    const ctx = createExecutionContext();
    scheduleDropFlush(flaky.db, ctx, 1);
    await waitOnExecutionContext(ctx);
    expect(flaky.calls).toEqual({ batch: 3, failed: 2 });
    expect(errors).toHaveBeenCalledTimes(2);
    expect(pendingDrops()).toEqual([]);
    expect(await rows("ingest_drops", "drops-retry")).toMatchObject([{ reason: "invalid", count: 2 }]);
  });

  it("gives up after the last retry and keeps the counts for the next flush", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const down = flakyD1(env.DB, Number.POSITIVE_INFINITY);
    countDrop("drops-down", drop("bot", "x", "search_crawler"));
    const ctx = createExecutionContext();
    scheduleDropFlush(down.db, ctx, 1, 2);
    await waitOnExecutionContext(ctx);
    expect(down.calls.batch).toBe(3); // the first try and two retries, then it stops
    expect(pendingDrops()).toMatchObject([{ site_id: "drops-down", reason: "bot", count: 1 }]);

    // The next drop schedules a new flush, which carries the kept count.
    countDrop("drops-down", drop("bot", "x", "search_crawler"));
    const next = createExecutionContext();
    scheduleDropFlush(env.DB, next, 1);
    await waitOnExecutionContext(next);
    expect(await rows("ingest_drops", "drops-down")).toMatchObject([{ reason: "bot", category: "search_crawler", count: 2 }]);
  });
});
