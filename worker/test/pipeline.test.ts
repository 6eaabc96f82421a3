// The pipeline's site steps and drop accounting: origin, bots, excluded paths, rate limits, and
// every drop counted in D1 per site, day, reason and bot category, a failing DO included.
import { createExecutionContext, runDurableObjectAlarm, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { flushDropCounts } from "../src/collector/ingest/drop-counter";
import { DEFAULT_RATE_LIMIT_IP, DEFAULT_RATE_LIMIT_SITE } from "../src/site-do/rate-limit";
import { utcDay } from "../src/site-do/visitor-hash";
import { CHROME_UA, createSite, postEvent, rows, siteStub } from "./helpers";

const GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)";

/** Drop counters of a site in D1 after a flush, as {reason[/category]: count}. */
async function drops(siteId: string): Promise<Record<string, number>> {
  await flushDropCounts(env.DB);
  const counted = await rows<{ day: string; reason: string; category: string; count: number }>("ingest_drops", siteId);
  expect(counted.every((row) => row.day === utcDay(Date.now()))).toBe(true);
  return Object.fromEntries(counted.map((row) => [row.category ? `${row.reason}/${row.category}` : row.reason, row.count]));
}

const pageview = (domain: string, url: string, headers: Record<string, string> = {}) =>
  postEvent({ n: "pageview", u: url, d: domain }, headers);

describe("check_origin", () => {
  beforeEach(async () => void (await flushDropCounts(env.DB)));

  it("accepts the site's hosts (and www.) and drops other hostnames as wrong_origin", async () => {
    const siteId = await createSite("origin.test", undefined, { domains: ["origin.test", "shop.example"] });
    for (const url of ["https://origin.test/", "https://www.origin.test/", "https://shop.example/cart"]) {
      expect((await pageview("origin.test", url)).status).toBe(202);
    }
    for (const url of ["https://evil.test/", "https://blog.origin.test/", "https://origin.test.evil.test/"]) {
      const response = await pageview("origin.test", url);
      expect(response.status).toBe(202);
      expect(response.headers.get("X-941-Dropped")).toBe("wrong_origin");
      expect(await response.json()).toMatchObject({ code: "wrong_origin" });
    }
    expect(await drops(siteId)).toEqual({ wrong_origin: 3 });
  });

  it("accepts subdomains when the site allows them", async () => {
    await createSite("subs.test", undefined, { allow_subdomains: 1 });
    expect((await pageview("subs.test", "https://blog.subs.test/post")).status).toBe(202);
    expect((await pageview("subs.test", "https://a.b.subs.test/")).status).toBe(202);
    expect((await pageview("subs.test", "https://notsubs.test/")).headers.get("X-941-Dropped")).toBe("wrong_origin");
  });
});

describe("filter_bot and check_excluded", () => {
  it("drops bots with a 202 and counts them per category", async () => {
    const siteId = await createSite("bots.test");
    for (const ua of [GOOGLEBOT, GOOGLEBOT, GPTBOT, "curl/8.5.0", ""]) {
      const response = await pageview("bots.test", "https://bots.test/", { "User-Agent": ua });
      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({ code: "bot" });
    }
    expect((await pageview("bots.test", "https://bots.test/", { "User-Agent": CHROME_UA })).status).toBe(202);
    await runDurableObjectAlarm(siteStub(siteId));
    expect(await rows("events", siteId)).toHaveLength(1);
    expect(await drops(siteId)).toEqual({
      "bot/search_crawler": 2, "bot/ai_crawler": 1, "bot/http_library": 1, "bot/no_user_agent": 1,
    });
  });

  it("drops excluded paths", async () => {
    const siteId = await createSite("excluded.test", undefined, { excluded_paths: ["/admin/**", "/preview/*", "/secret"] });
    for (const path of ["/admin", "/admin/users/1", "/preview/draft", "/secret"]) {
      const response = await pageview("excluded.test", `https://excluded.test${path}`);
      expect([path, response.status, (await response.json<{ code?: string }>()).code]).toEqual([path, 202, "excluded"]);
    }
    for (const path of ["/preview/draft/2", "/secrets", "/"]) {
      expect(await (await pageview("excluded.test", `https://excluded.test${path}`)).json()).toEqual({ ok: true });
    }
    expect(await drops(siteId)).toEqual({ excluded: 4 });
  });
});

describe("rate limits", () => {
  it("limits events per visitor per minute and per site per minute", async () => {
    const siteId = await createSite("limits.test", undefined, { rate_limit_visitor: 3, rate_limit_site: 5 });
    const from = (ip: string) => pageview("limits.test", "https://limits.test/", { "CF-Connecting-IP": ip });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await from("198.51.100.1")).status);
    for (let i = 0; i < 3; i++) statuses.push((await from("198.51.100.2")).status);
    expect(statuses).toEqual([202, 202, 202, 429, 202, 202, 429]);
    const limited = await from("198.51.100.3");
    expect(await limited.json()).toMatchObject({ code: "rate_limited", message: expect.stringContaining("for this site") });
    // The drop's category names the bucket.
    expect(await drops(siteId)).toEqual({ "rate_limited/per_visitor": 1, "rate_limited/per_site": 2 });
  });

  /**
   * Runs a burst that must fall in one minute of event time (the limits' window), once more on a
   * fresh site if it straddled a minute's end. `attempt` names the site of each try.
   */
  async function inOneMinute<T>(burst: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const minute = Math.floor(Date.now() / 60_000);
      const result = await burst(attempt);
      if (Math.floor(Date.now() / 60_000) === minute || attempt >= 2) return result;
    }
  }

  const chrome = (build: number) => CHROME_UA.replace("131.0.0.0", `131.0.${build}.0`);

  it("stops one address rotating user agents (and IPv6 addresses within its /64) with the IP bucket", async () => {
    expect(env.RATE_LIMIT_IP).toBe(String(DEFAULT_RATE_LIMIT_IP));
    const { siteId, statuses, next, other } = await inOneMinute(async (attempt) => {
      const domain = `ip-rotate-${attempt}.test`;
      const siteId = await createSite(domain); // the defaults: 120 per visitor, no site limit of its own
      const send = (ip: string, build: number) => pageview(domain, `https://${domain}/`, { "CF-Connecting-IP": ip, "User-Agent": chrome(build) });
      // Every event a new visitor hash: the visitor limit never applies.
      const statuses: number[] = [];
      for (let start = 0; start < DEFAULT_RATE_LIMIT_IP; start += 50) {
        const batch = Array.from({ length: 50 }, (_, i) => send(`2001:db8:1:2::${(start + i).toString(16)}`, start + i));
        statuses.push(...(await Promise.all(batch)).map((r) => r.status));
      }
      const next = await send("2001:db8:1:2:ffff::1", 9999);
      const other = await send("2001:db8:1:3::1", 9998);
      return { siteId, statuses, next, other };
    });
    expect(statuses.filter((status) => status !== 202)).toEqual([]);
    expect(next.status).toBe(429);
    expect(await next.json()).toMatchObject({ code: "rate_limited", message: expect.stringContaining("from this address") });
    expect(other.status).toBe(202); // another /64
    expect(await drops(siteId)).toEqual({ "rate_limited/per_ip": 1 });
  });

  it("lets a busy site through: many visitors, and an office of 100 behind one address", async () => {
    const { siteId, statuses } = await inOneMinute(async (attempt) => {
      const domain = `busy-${attempt}.test`;
      const siteId = await createSite(domain);
      const send = (ip: string, build: number, path: string) =>
        pageview(domain, `https://${domain}${path}`, { "CF-Connecting-IP": ip, "User-Agent": chrome(build) });
      const statuses: number[] = [];
      for (let round = 0; round < 5; round++) {
        const visitors = Array.from({ length: 200 }, (_, i) => send(`198.51.${round % 2}.${i}`, i, `/p${round}`));
        const office = Array.from({ length: 100 }, (_, i) => send("192.0.2.200", 1000 + i, `/o${round}`));
        statuses.push(...(await Promise.all([...visitors, ...office])).map((r) => r.status));
      }
      return { siteId, statuses };
    });
    expect(statuses).toHaveLength(1500);
    expect(statuses.filter((status) => status !== 202)).toEqual([]);
    expect(await drops(siteId)).toEqual({});
  });

  it("applies the collector's per-site default to a site without a limit of its own", async () => {
    expect(env.RATE_LIMIT_SITE_DEFAULT).toBe(String(DEFAULT_RATE_LIMIT_SITE));
    // A smaller default than 10,000, through the same code path (the var), to keep the test short.
    const small = { ...env, RATE_LIMIT_SITE_DEFAULT: "5", DROP_FLUSH_DELAY_MS: "0" };
    const send = async (domain: string, i: number) => {
      const ctx = createExecutionContext();
      const response = await worker.fetch(
        new Request("https://collector.test/api/event", {
          method: "POST",
          body: JSON.stringify({ n: "pageview", u: `https://${domain}/`, d: domain }),
          headers: { "User-Agent": CHROME_UA, "CF-Connecting-IP": `203.0.113.${i}` },
        }),
        small,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return response.status;
    };
    const { unset, own, statuses } = await inOneMinute(async (attempt) => {
      const unset = await createSite(`site-default-${attempt}.test`);
      const own = await createSite(`site-own-${attempt}.test`, undefined, { rate_limit_site: 8 });
      const statuses = { unset: [] as number[], own: [] as number[] };
      for (let i = 0; i < 7; i++) statuses.unset.push(await send(`site-default-${attempt}.test`, i));
      for (let i = 0; i < 9; i++) statuses.own.push(await send(`site-own-${attempt}.test`, i));
      return { unset, own, statuses };
    });
    expect(statuses.unset).toEqual([202, 202, 202, 202, 202, 429, 429]);
    expect(await drops(unset)).toEqual({ "rate_limited/per_site": 2 });
    // A site's own limit wins over the default, above it as below.
    expect(statuses.own).toEqual([...Array<number>(8).fill(202), 429]);
    expect(await drops(own)).toEqual({ "rate_limited/per_site": 1 });
  });
});

describe("drops before the site is known", () => {
  it("are counted under site ''", async () => {
    await flushDropCounts(env.DB);
    const before = await drops("");
    await postEvent("{nope");
    await postEvent({ n: "pageview", u: "https://unknown-site.test/", d: "unknown-site.test" });
    await postEvent(JSON.stringify({ n: "pageview", u: "https://x.test/", d: "x.test", p: { pad: "x".repeat(9000) } }));
    const after = await drops("");
    const delta = (reason: string) => (after[reason] ?? 0) - (before[reason] ?? 0);
    expect([delta("invalid"), delta("unknown_site"), delta("too_large")]).toEqual([1, 1, 1]);
  });
});

describe("register_session", () => {
  it("answers a failing Durable Object with a counted 503 unavailable, not a bare 500", async () => {
    const siteId = await createSite("do-down.test");
    await flushDropCounts(env.DB);
    // The real namespace, except that every stub's ingest RPC fails like an overloaded DO.
    const failing = new Proxy(env.SITE_DO, {
      get(target, property) {
        if (property === "get") {
          return (id: DurableObjectId) =>
            new Proxy(target.get(id), {
              get: (stub, name) =>
                name === "ingest" ? () => Promise.reject(new Error("Durable Object is overloaded")) : Reflect.get(stub, name),
            });
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const ctx = createExecutionContext();
    const response = await worker.fetch(
      new Request("https://collector.test/api/event", {
        method: "POST",
        body: JSON.stringify({ n: "pageview", u: "https://do-down.test/", d: "do-down.test" }),
        headers: { "User-Agent": CHROME_UA },
      }),
      { ...env, SITE_DO: failing },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const logged = errors.mock.calls.map((call) => call[0]);
    errors.mockRestore();
    expect(response.status).toBe(503);
    expect(response.headers.get("Content-Type")).toBe("application/json");
    expect(await response.json()).toEqual({ code: "unavailable", message: expect.stringContaining("retry") });
    expect(logged).toEqual(["site durable object failed"]);
    expect(await drops(siteId)).toEqual({ unavailable: 1 });
  });
});
