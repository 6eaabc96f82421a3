// Site lookup caching: hits for the TTL, misses briefly, stale entries served when D1 fails.
import { beforeEach, describe, expect, it } from "vitest";
import { clearSiteCache, lookupSite, MISS_TTL_S, SITE_DEFAULTS, siteFromRow } from "../src/collector/site-lookup";

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
    expect(await lookupSite(db, "a.test", 60, 0)).toEqual({
      id: "s-a", domain: "a.test", domains: ["a.test"], timezone: "UTC", ...SITE_DEFAULTS,
    });
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

  it("reads the collector settings, falling back to defaults for malformed values", () => {
    expect(siteFromRow({
      id: "s", domain: "s.test", domains: "not json", timezone: "UTC", allow_subdomains: 1,
      excluded_paths: '["/admin/**", 3]', rate_limit_visitor: 10, rate_limit_site: -1, bounce_threshold_ms: 5000, retention_days: 30,
      keep_query_params: '["page", 1]',
    })).toEqual({
      id: "s", domain: "s.test", domains: [], timezone: "UTC", allowSubdomains: true, excludedPaths: ["/admin/**"],
      rateLimitVisitor: 10, rateLimitSite: 0, bounceThresholdMs: 5000, retentionDays: 30, database: "DB",
      keepQueryParams: ["page"], identityEnabled: false, identityTraits: [], returningEnabled: false,
    });
  });

  it("reads the identity switches (migration 0027): on only when exactly 1, declared traits as strings", () => {
    const row = { id: "s", domain: "s.test", domains: "[]", timezone: "UTC" };
    expect(siteFromRow({ ...row, identity_enabled: 1, identity_traits: '["plan", 7, "team"]', returning_enabled: 1 })).toMatchObject({
      identityEnabled: true, identityTraits: ["plan", "team"], returningEnabled: true,
    });
    expect(siteFromRow({ ...row, identity_enabled: 2, identity_traits: "{", returning_enabled: null })).toMatchObject({
      identityEnabled: false, identityTraits: [], returningEnabled: false,
    });
  });
});
