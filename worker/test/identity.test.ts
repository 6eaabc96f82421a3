// Opt-in identity and new vs returning visitors (issue 17, migration 0027) through the real
// Worker, Durable Object and D1: identify() refused (202, the event counted anonymously) while a
// site has identity off, with nothing of the id stored anywhere; with it on, sessions.user_id is
// the id's HMAC under the site's secret (stable across days, different per site), traits only
// under declared keys; is_returning only when the site has it on; hostile ids and traits.
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hashToken } from "../src/collector/bulk/token";
import { parsePayload } from "../src/collector/ingest/payload";
import { MAX_TRAIT_VALUE_LENGTH } from "../src/collector/ingest/identity";
import { clearSiteCache } from "../src/collector/site-lookup";
import { IDENTITY_DROPPED_HEADER } from "../src/collector/routes";
import type { CollectedEvent } from "../src/contract";
import { NO_ATTRIBUTION } from "../src/rows";
import { CHROME_UA, createSite, drainOutbox, ingestOk, postEvent, rows, siteStub } from "./helpers";

interface Session {
  id: string;
  visitor_id: string;
  user_id: string | null;
  is_returning: number | null;
  pageviews: number;
}

/** A site with the three switches of migration 0027 set. */
async function identitySite(domain: string, { identity = false, traits = [] as string[], returning = false } = {}): Promise<string> {
  const id = await createSite(domain);
  await env.DB.prepare("UPDATE sites SET identity_enabled = ?, identity_traits = ?, returning_enabled = ? WHERE id = ?")
    .bind(identity ? 1 : 0, JSON.stringify(traits), returning ? 1 : 0, id)
    .run();
  clearSiteCache();
  return id;
}

const send = (domain: string, body: Record<string, unknown>, ip = "203.0.113.7") =>
  postEvent({ n: "pageview", u: `https://${domain}/`, d: domain, ...body }, { "CF-Connecting-IP": ip });

async function traitsOf(siteId: string) {
  const result = await env.DB.prepare("SELECT user_id, key, value FROM user_traits WHERE site = ? ORDER BY user_id, key").bind(siteId).all();
  return result.results;
}

/** HMAC-SHA256 of the id under the secret the site's DO keeps, computed here independently. */
async function expectedHash(siteId: string, id: string): Promise<string> {
  const secret = await runInDurableObject(siteStub(siteId), (_instance, state) =>
    state.storage.sql.exec<{ secret: string }>("SELECT secret FROM user_secret").one().secret,
  );
  const key = await crypto.subtle.importKey("raw", Uint8Array.from(secret.match(/../g) ?? [], (h) => parseInt(h, 16)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(id)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every text in the site's D1 rows and in its DO's storage, to search for what must not be there. */
async function everythingStored(siteId: string): Promise<string> {
  const d1: unknown[] = [];
  for (const [table, column] of [["events", "site_id"], ["sessions", "site_id"], ["user_traits", "site"], ["page_titles", "site"]]) {
    d1.push((await env.DB.prepare(`SELECT * FROM ${table} WHERE ${column} = ?`).bind(siteId).all()).results);
  }
  const durable = await runInDurableObject(siteStub(siteId), (_instance, state) => {
    const sql = state.storage.sql;
    const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").toArray();
    return tables.map(({ name }) => sql.exec(`SELECT * FROM "${name}"`).toArray());
  });
  return JSON.stringify([d1, durable]);
}

describe("the add-ons' fields in the payload", () => {
  const base = { n: "pageview", u: "https://a.test/", d: "a.test" };
  it("reads the id as sent (numbers as text, null and empty as none), traits raw and returning as a boolean", () => {
    expect(parsePayload(JSON.stringify({ ...base, U: "u-1", T: { plan: "pro" }, R: true }))).toMatchObject({ userId: "u-1", traits: { plan: "pro" }, returning: true });
    expect(parsePayload(JSON.stringify({ ...base, user_id: 42, traits: 3, returning: 0 }))).toMatchObject({ userId: "42", traits: 3, returning: false });
    // Lone surrogates stay: identity.ts refuses them, rather than hashing a U+FFFD look-alike.
    expect(parsePayload(`{"n":"pageview","u":"https://a.test/","U":"a\\ud800"}`)).toMatchObject({ userId: "a\ud800" });
    for (const U of [null, ""]) expect(parsePayload(JSON.stringify({ ...base, U }))).toMatchObject({ userId: undefined });
    for (const R of ["yes", 2, null]) expect(parsePayload(JSON.stringify({ ...base, R }))).toMatchObject({ name: "pageview", returning: null });
  });
});

describe("identify() on a site with identity off (the default)", () => {
  it("counts the event without the id, says why in a 202, and stores nothing of the id or its traits", async () => {
    const domain = "identity-off.test";
    const siteId = await identitySite(domain, { traits: ["plan"] });
    const response = await send(domain, { U: "secret-user-4711", T: { plan: "gold-plan-xyz" } });
    expect(response.status).toBe(202);
    expect(response.headers.get(IDENTITY_DROPPED_HEADER)).toBe("identity_off");
    expect(response.headers.get("Access-Control-Expose-Headers")).toContain(IDENTITY_DROPPED_HEADER);
    expect(await response.json()).toMatchObject({ ok: true, identity_dropped: { code: "identity_off", message: expect.stringContaining("off for this site") } });
    expect(response.headers.get("X-941-Dropped")).toBeNull();
    expect(await drainOutbox(siteStub(siteId))).toBe(true);

    const sessions = await rows<Session>("sessions", siteId);
    expect(sessions.map((s) => [s.pageviews, s.user_id])).toEqual([[1, null]]);
    expect(await traitsOf(siteId)).toEqual([]);
    const stored = await everythingStored(siteId);
    expect(stored).not.toContain("secret-user-4711");
    expect(stored).not.toContain("gold-plan-xyz");
    // Not even a secret was drawn: no identified event ever reached the DO.
    const tables = await runInDurableObject(siteStub(siteId), (_instance, state) =>
      state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((t) => t.name),
    );
    expect(tables).not.toContain("user_secret");
  });

  it("answers an event without an id as always", async () => {
    const domain = "identity-off-plain.test";
    await identitySite(domain);
    const response = await send(domain, {});
    expect(response.status).toBe(202);
    expect(response.headers.get(IDENTITY_DROPPED_HEADER)).toBeNull();
    expect(await response.json()).toEqual({ ok: true });
  });
});

describe("identify() on a site with identity on", () => {
  it("stores the id's keyed hash on the visit, the same on every day and different on another site", async () => {
    const [a, b] = ["identity-a.test", "identity-b.test"];
    const siteA = await identitySite(a, { identity: true });
    const siteB = await identitySite(b, { identity: true });
    for (const domain of [a, b]) {
      const response = await send(domain, { U: "user@example.test" });
      expect(response.status).toBe(202);
      expect(response.headers.get(IDENTITY_DROPPED_HEADER)).toBeNull();
    }
    // Two days later, another visit (its own day's visitor hash) of the same user.
    const later = Date.now() + 2 * 86_400_000;
    const event: CollectedEvent = {
      ...NO_ATTRIBUTION, id: crypto.randomUUID(), ts: later, site_id: siteA, name: "pageview", hostname: a, pathname: "/later",
      props: null, revenue: null, revenue_currency: null, interactive: true, engaged_ms: null, scroll_depth: null,
      identity: { id: "user@example.test", traits: null },
    };
    await ingestOk(siteStub(siteA), event, { ip: "203.0.113.7", userAgent: CHROME_UA });
    expect(await drainOutbox(siteStub(siteA))).toBe(true);
    expect(await drainOutbox(siteStub(siteB))).toBe(true);

    const sessionsA = await rows<Session>("sessions", siteA);
    const [sessionB] = await rows<Session>("sessions", siteB);
    expect(sessionsA).toHaveLength(2);
    const hashA = await expectedHash(siteA, "user@example.test");
    expect(hashA).toMatch(/^[0-9a-f]{64}$/);
    expect(sessionsA.map((s) => s.user_id)).toEqual([hashA, hashA]);
    expect(sessionsA[0]?.visitor_id).not.toBe(sessionsA[1]?.visitor_id);
    expect(sessionB?.user_id).toBe(await expectedHash(siteB, "user@example.test"));
    expect(sessionB?.user_id).not.toBe(hashA);
    // The erasure endpoint's RPC hashes alike.
    expect(await siteStub(siteA).hashUserId("user@example.test")).toBe(hashA);
    expect(await everythingStored(siteA)).not.toContain("user@example.test");
  });

  it("keeps only the declared traits, scrubbed and capped, latest value per key", async () => {
    const domain = "identity-traits.test";
    const siteId = await identitySite(domain, { identity: true, traits: ["plan", "team", "__proto__", "seats"] });
    const traits = JSON.parse(`{"plan": "free", "team": "ops of bob@corp.test", "admin": "yes", "constructor": "x", "__proto__": "proto",
      "seats": 12, "nested": {"a": 1}}`) as Record<string, unknown>;
    expect((await send(domain, { U: "u-traits", T: traits })).status).toBe(202);
    // Later in the visit: a new plan, an over-long team name, an unusable seat count.
    const long = `<script>alert(1)</script> ${"x".repeat(300)}`;
    expect((await send(domain, { n: "Upgrade", U: "u-traits", T: { plan: "pro", team: long, seats: { n: 1 } } })).status).toBe(202);
    // Traits without an id are nobody's.
    expect((await send(domain, { n: "Other", T: { plan: "orphan" } }, "203.0.113.99")).status).toBe(202);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);

    const user = await expectedHash(siteId, "u-traits");
    expect(await traitsOf(siteId)).toEqual([
      { user_id: user, key: "__proto__", value: "proto" },
      { user_id: user, key: "plan", value: "pro" },
      { user_id: user, key: "seats", value: "12" },
      { user_id: user, key: "team", value: [...long].slice(0, MAX_TRAIT_VALUE_LENGTH).join("") },
    ]);
    const stored = await everythingStored(siteId);
    expect(stored).not.toContain("bob@corp.test");
    expect(stored).not.toContain("orphan");
  });

  it("identifies a visit mid-way (the session row already in D1 is updated), and another user's id starts a visit of its own", async () => {
    const domain = "identity-mid.test";
    const siteId = await identitySite(domain, { identity: true });
    expect((await send(domain, {})).status).toBe(202);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    expect((await rows<Session>("sessions", siteId)).map((s) => s.user_id)).toEqual([null]);

    // identify() after the pageview reports at once, as an engagement event.
    expect((await send(domain, { n: "engagement", e: 1200, s: 40, U: "first-user" })).status).toBe(202);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    const first = await expectedHash(siteId, "first-user");
    expect((await rows<Session>("sessions", siteId)).map((s) => s.user_id)).toEqual([first]);

    // Events without the id keep the visit's user; an engagement naming another never re-identifies it.
    expect((await send(domain, { u: `https://${domain}/two` })).status).toBe(202);
    expect((await send(domain, { n: "engagement", e: 2000, s: 50, U: "second-user", u: `https://${domain}/two` })).status).toBe(202);
    // Another user's pageview: a visit of its own.
    expect((await send(domain, { u: `https://${domain}/three`, U: "second-user" })).status).toBe(202);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    const sessions = await rows<Session>("sessions", siteId);
    expect(sessions.map((s) => [s.user_id, s.pageviews])).toEqual([[first, 2], [await expectedHash(siteId, "second-user"), 1]]);
  });

  it("refuses hostile ids with a reason and counts their events anonymously; odd but valid ids are only hashed", async () => {
    const domain = "identity-hostile.test";
    const siteId = await identitySite(domain, { identity: true });
    const refused = ["tab\there", "nul\u0000", "c1\u0085", "x".repeat(257), "lone\ud800"];
    for (const [i, U] of refused.entries()) {
      const response = await send(domain, { U }, `198.51.100.${i + 1}`);
      expect(response.status, JSON.stringify(U)).toBe(202);
      expect(response.headers.get(IDENTITY_DROPPED_HEADER)).toBe("invalid_user_id");
      expect(((await response.json()) as { identity_dropped: { message: string } }).identity_dropped.message).toMatch(/counted without it/);
    }
    // A non-string, non-number id.
    const object = await send(domain, { U: { id: 1 } }, "198.51.100.50");
    expect(object.headers.get(IDENTITY_DROPPED_HEADER)).toBe("invalid_user_id");
    const odd = ["'); DROP TABLE sessions; --", "<img src=x onerror=alert(1)>", "😀".repeat(128), "x".repeat(256)];
    for (const [i, U] of odd.entries()) {
      const response = await send(domain, { U }, `198.51.100.${100 + i}`);
      expect(response.headers.get(IDENTITY_DROPPED_HEADER), U).toBeNull();
    }
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    const sessions = await rows<Session>("sessions", siteId);
    expect(sessions).toHaveLength(refused.length + 1 + odd.length);
    expect(sessions.filter((s) => s.user_id === null)).toHaveLength(refused.length + 1);
    const hashes = await Promise.all(odd.map((id) => expectedHash(siteId, id)));
    expect(sessions.map((s) => s.user_id).filter((id) => id !== null).sort()).toEqual([...hashes].sort());
    const stored = await everythingStored(siteId);
    for (const id of [...refused, ...odd]) expect(stored).not.toContain(JSON.stringify(id).slice(1, -1));
  });

  it("takes user_id and traits from server-sent events too", async () => {
    const domain = "identity-bulk.test";
    const siteId = await identitySite(domain, { identity: true, traits: ["plan"] });
    const offId = await identitySite("identity-bulk-off.test");
    const secret = `a941_t_${crypto.randomUUID().replaceAll("-", "")}`;
    await env.DB.prepare("INSERT INTO api_tokens (id, token_hash, prefix, name, site_ids, scopes, created_at) VALUES (?, ?, ?, 'test', ?, ?, 0)")
      .bind(crypto.randomUUID(), await hashToken(secret), secret.slice(0, 13), JSON.stringify([siteId, offId]), JSON.stringify(["ingest"]))
      .run();
    const event = (d: string, i: number) => ({
      name: "Purchase", url: `https://${d}/checkout`, domain: d, timestamp: Date.now() - 60_000, ip: `192.0.2.${i}`, user_agent: CHROME_UA,
      user_id: "crm-991", traits: { plan: "team", other: "no" },
    });
    const response = await exports.default.fetch("https://collector.test/api/ingest/bulk", {
      method: "POST",
      body: JSON.stringify({ events: [event(domain, 1), event("identity-bulk-off.test", 2)] }),
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${secret}` },
    });
    expect(response.status).toBe(202);
    const { results } = (await response.json()) as { results: { outcome: string; identity_dropped?: { code: string } }[] };
    expect(results.map((r) => [r.outcome, r.identity_dropped?.code])).toEqual([["accepted", undefined], ["accepted", "identity_off"]]);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    expect(await drainOutbox(siteStub(offId))).toBe(true);
    const user = await expectedHash(siteId, "crm-991");
    expect((await rows<Session>("sessions", siteId)).map((s) => s.user_id)).toEqual([user]);
    expect(await traitsOf(siteId)).toEqual([{ user_id: user, key: "plan", value: "team" }]);
    expect((await rows<Session>("sessions", offId)).map((s) => s.user_id)).toEqual([null]);
  });
});

describe("new vs returning visitors", () => {
  it("stores the visit's first flag when the site has it on, and nothing when off", async () => {
    const on = "returning-on.test";
    const off = "returning-off.test";
    const siteOn = await identitySite(on, { returning: true });
    const siteOff = await identitySite(off);
    // A returning browser's visit (later events' flags change nothing), a new browser's, one not told.
    for (const domain of [on, off]) {
      expect((await send(domain, { R: true }, "192.0.2.1")).status).toBe(202);
      expect((await send(domain, { R: false, u: `https://${domain}/2` }, "192.0.2.1")).status).toBe(202);
      expect((await send(domain, { R: false }, "192.0.2.2")).status).toBe(202);
      expect((await send(domain, {}, "192.0.2.3")).status).toBe(202);
    }
    expect(await drainOutbox(siteStub(siteOn))).toBe(true);
    expect(await drainOutbox(siteStub(siteOff))).toBe(true);
    const flags = async (siteId: string) => (await rows<Session>("sessions", siteId)).map((s) => [s.pageviews, s.is_returning]).sort();
    expect(await flags(siteOn)).toEqual([[1, 0], [1, null], [2, 1]].sort());
    expect(await flags(siteOff)).toEqual([[1, null], [1, null], [2, null]]);
  });
});
