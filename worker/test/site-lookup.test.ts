// Site lookup caching: hits for the TTL, misses briefly, stale entries served when D1 fails.
import { beforeEach, describe, expect, it } from "vitest";
import { clearSiteCache, lookupSite, MISS_TTL_S } from "../src/site-lookup";

/** A stand-in D1 that answers the sites query from a map and counts queries. */
function fakeD1(sites: Record<string, string>) {
  const state = { queries: 0, failing: false };
  const db = {
    prepare: () => ({
      bind: (domain: string) => ({
        first: async () => {
          state.queries++;
          if (state.failing) throw new Error("D1_ERROR: down");
          const id = sites[domain];
          return id ? { id, domain, domains: `["${domain}"]`, timezone: "UTC" } : null;
        },
      }),
    }),
  } as unknown as D1Database;
  return { db, state };
}

describe("lookupSite", () => {
  beforeEach(() => clearSiteCache());

  it("caches hits for the TTL", async () => {
    const { db, state } = fakeD1({ "a.test": "s-a" });
    expect(await lookupSite(db, "a.test", 60, 0)).toEqual({ id: "s-a", domain: "a.test", domains: ["a.test"], timezone: "UTC" });
    await lookupSite(db, "a.test", 60, 59_000);
    expect(state.queries).toBe(1);
    await lookupSite(db, "a.test", 60, 60_001);
    expect(state.queries).toBe(2);
  });

  it("caches misses only briefly", async () => {
    const { db, state } = fakeD1({});
    expect(await lookupSite(db, "none.test", 60, 0)).toBeNull();
    expect(await lookupSite(db, "none.test", 60, MISS_TTL_S * 1000 - 1)).toBeNull();
    expect(state.queries).toBe(1);
    await lookupSite(db, "none.test", 60, MISS_TTL_S * 1000 + 1);
    expect(state.queries).toBe(2);
  });

  it("serves a stale entry when D1 fails, and throws when it has none", async () => {
    const { db, state } = fakeD1({ "a.test": "s-a" });
    await lookupSite(db, "a.test", 60, 0);
    state.failing = true;
    expect(await lookupSite(db, "a.test", 60, 120_000)).toMatchObject({ id: "s-a" });
    await expect(lookupSite(db, "b.test", 60, 120_000)).rejects.toThrow("D1_ERROR");
  });
});
