// Plausible's Events API, as its clients send it (issue #16): X-Forwarded-For as the visitor's
// address, the payloads Plausible accepts, 202 for every well-formed drop, and source attribution.
// Each case checks the rows D1 ends up with.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { flushDropCounts } from "../src/collector/ingest/drop-counter";
import { forwardedFor } from "../src/collector/ingest/pipeline";
import { CHROME_UA, createSite, drainOutbox, postEvent, rows, siteStub } from "./helpers";

type Row = Record<string, unknown>;

/** Posts each body, expects 202 each time, drains the site's outbox and returns the chosen columns of its events. */
async function stored(siteId: string, columns: string[], ...bodies: [unknown, Record<string, string>?][]): Promise<Row[]> {
  for (const [body, headers] of bodies) {
    const response = await postEvent(body, headers);
    expect(response.status, JSON.stringify(await response.clone().json())).toBe(202);
    expect(response.headers.get("X-941-Dropped")).toBeNull();
  }
  expect(await drainOutbox(siteStub(siteId))).toBe(true);
  return (await rows("events", siteId)).map((row) => Object.fromEntries(columns.map((column) => [column, row[column]])));
}

/** The site's drop counts in D1, as {reason[/category]: count}. */
async function drops(siteId: string): Promise<Record<string, number>> {
  await flushDropCounts(env.DB);
  const counted = await rows<{ reason: string; category: string; count: number }>("ingest_drops", siteId);
  return Object.fromEntries(counted.map((row) => [row.category ? `${row.reason}/${row.category}` : row.reason, row.count]));
}

describe("X-Forwarded-For", () => {
  it("takes the leftmost address, a port or brackets removed, and ignores what is not an address", () => {
    expect(forwardedFor("198.51.100.1, 10.0.0.1, 172.16.0.1")).toBe("198.51.100.1");
    expect(forwardedFor("198.51.100.1:4711")).toBe("198.51.100.1");
    expect(forwardedFor("[2001:db8::1]:443, 10.0.0.1")).toBe("2001:db8::1");
    expect(forwardedFor("2001:db8::7")).toBe("2001:db8::7");
    expect(forwardedFor("::ffff:192.0.2.1")).toBe("::ffff:192.0.2.1");
    for (const junk of [null, "", "unknown", "999.1.1.1", "<script>", "1.2.3", ":", "a:b", "dead:beef:zz"]) expect(forwardedFor(junk)).toBeNull();
  });

  it("counts a visitor per forwarded address, over CF-Connecting-IP, and stores no address", async () => {
    const siteId = await createSite("xff.test");
    const page = (path: string) => ({ name: "pageview", url: `https://xff.test${path}`, domain: "xff.test" });
    // One backend (one CF-Connecting-IP, one user agent) relaying three visitors.
    const backend = { "CF-Connecting-IP": "192.0.2.50", "User-Agent": CHROME_UA };
    const events = await stored(
      siteId,
      ["pathname", "visitor_id"],
      [page("/a"), { ...backend, "X-Forwarded-For": "198.51.100.1" }],
      [page("/b"), { ...backend, "X-Forwarded-For": "198.51.100.2, 10.0.0.1" }],
      [page("/c"), { ...backend, "X-Forwarded-For": "198.51.100.1, 10.9.9.9" }],
      // Not an address: the connecting address counts, as without the header.
      [page("/d"), { ...backend, "X-Forwarded-For": "unknown" }],
      [page("/e"), backend],
    );
    const visitor = Object.fromEntries(events.map((row) => [row.pathname, row.visitor_id]));
    expect(visitor["/c"]).toBe(visitor["/a"]);
    expect(visitor["/e"]).toBe(visitor["/d"]);
    expect(new Set([visitor["/a"], visitor["/b"], visitor["/d"]]).size).toBe(3);
    const everything = JSON.stringify([await rows("events", siteId), await rows("sessions", siteId)]);
    for (const address of ["198.51.100", "192.0.2.50"]) expect(everything).not.toContain(address);
  });
});

describe("payloads Plausible accepts", () => {
  it("takes the site from the URL's host (without www.) when there is no domain", async () => {
    const siteId = await createSite("nodomain.test");
    expect(await stored(siteId, ["name", "hostname", "pathname"], [{ name: "pageview", url: "https://www.nodomain.test/x" }])).toEqual([
      { name: "pageview", hostname: "www.nodomain.test", pathname: "/x" },
    ]);
  });

  it("counts an event sent to two domains in both sites", async () => {
    const first = await createSite("first.test", undefined, { domains: ["first.test", "shared.test"] });
    const second = await createSite("second.test", undefined, { domains: ["second.test", "shared.test"] });
    const response = await postEvent({ name: "Signup", url: "https://shared.test/join", domain: "first.test, Second.test" });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ ok: true });
    for (const siteId of [first, second]) {
      expect(await drainOutbox(siteStub(siteId))).toBe(true);
      expect((await rows("events", siteId)).map((row) => [row.site_id, row.name, row.pathname])).toEqual([[siteId, "Signup", "/join"]]);
    }
  });

  it("keeps the event and drops only nested and empty prop values, and props past the 30th", async () => {
    const siteId = await createSite("props-compat.test");
    const many = Object.fromEntries(Array.from({ length: 35 }, (_, i) => [`k${i}`, `v${i}`]));
    const events = await stored(
      siteId,
      ["name", "props"],
      [{ n: "Nested", u: "https://props-compat.test/", d: "props-compat.test", p: { plan: "pro", nested: { a: 1 }, list: [1], empty: "", n: 3 } }],
      [{ n: "Many", u: "https://props-compat.test/", d: "props-compat.test", p: many }],
      [{ n: "Empty", u: "https://props-compat.test/", d: "props-compat.test", p: { only: "" } }],
    );
    expect(events).toEqual([
      { name: "Nested", props: '{"plan":"pro","n":"3"}' },
      { name: "Many", props: JSON.stringify(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, `v${i}`]))) },
      { name: "Empty", props: null },
    ]);
  });

  it("reads a numeric name as text, props under meta and m, hashMode, and app:// URLs", async () => {
    const siteId = await createSite("spellings.test");
    const events = await stored(
      siteId,
      ["name", "hostname", "pathname", "props"],
      [{ name: 404, url: "https://spellings.test/gone", domain: "spellings.test", meta: { path: "/gone" } }],
      [{ n: "Legacy", u: "https://spellings.test/", d: "spellings.test", m: '{"via":"m"}' }],
      [{ name: "pageview", url: "https://spellings.test/app#/settings", domain: "spellings.test", hashMode: 1 }],
      [{ name: "pageview", url: "app://localhost/screens/home", domain: "spellings.test" }],
      [{ name: "pageview", url: "android-app://com.example.app/start", domain: "spellings.test" }],
    );
    expect(events).toEqual([
      { name: "404", hostname: "spellings.test", pathname: "/gone", props: '{"path":"/gone"}' },
      { name: "Legacy", hostname: "spellings.test", pathname: "/", props: '{"via":"m"}' },
      { name: "pageview", hostname: "spellings.test", pathname: "/app#/settings", props: null },
      { name: "pageview", hostname: "localhost", pathname: "/screens/home", props: null },
      { name: "pageview", hostname: "com.example.app", pathname: "/start", props: null },
    ]);
  });

  it("stores the official tracker's scroll depth (sd) on the page's pageview", async () => {
    const siteId = await createSite("sd.test");
    const page = { u: "https://sd.test/article", d: "sd.test" };
    expect(await stored(siteId, ["name", "engaged_ms", "scroll_depth"], [{ n: "pageview", ...page }], [{ n: "engagement", ...page, sd: 64, e: 4200 }])).toEqual([
      { name: "pageview", engaged_ms: 4200, scroll_depth: 64 },
    ]);
  });
});

describe("answers like Plausible", () => {
  it("answers 202 with the reason in X-941-Dropped for unknown site, wrong host, bot and excluded page, and counts each", async () => {
    const siteId = await createSite("answers.test", undefined, { excluded_paths: ["/admin/**"] });
    const unknownBefore = (await drops("")).unknown_site ?? 0;
    const cases: [unknown, Record<string, string>, string][] = [
      [{ n: "pageview", u: "https://nobody-here.test/", d: "nobody-here.test" }, {}, "unknown_site"],
      [{ n: "pageview", u: "https://elsewhere.test/", d: "answers.test" }, {}, "wrong_origin"],
      [{ n: "pageview", u: "https://answers.test/", d: "answers.test" }, { "User-Agent": "curl/8.5.0" }, "bot"],
      [{ n: "pageview", u: "https://answers.test/admin/users", d: "answers.test" }, {}, "excluded"],
    ];
    for (const [body, headers, reason] of cases) {
      const response = await postEvent(body, headers);
      expect([response.status, response.headers.get("X-941-Dropped"), ((await response.json()) as { code: string }).code]).toEqual([202, reason, reason]);
      expect(response.headers.get("X-Plausible-Dropped")).toBe("1");
      expect(response.headers.get("Access-Control-Expose-Headers")).toBe("X-941-Dropped, X-Plausible-Dropped");
    }
    expect(await drops(siteId)).toEqual({ wrong_origin: 1, "bot/http_library": 1, excluded: 1 });
    expect((await drops("")).unknown_site).toBe(unknownBefore + 1);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    expect(await rows("events", siteId)).toEqual([]);
  });

  it("counts an event sent to a known and an unknown domain once, naming the drop", async () => {
    const siteId = await createSite("half.test");
    const response = await postEvent({ n: "pageview", u: "https://half.test/", d: "half.test,not-registered.test" });
    expect([response.status, response.headers.get("X-941-Dropped"), await response.json()]).toEqual([202, "unknown_site", { ok: true }]);
    expect(await drainOutbox(siteStub(siteId))).toBe(true);
    expect(await rows("events", siteId)).toHaveLength(1);
  });

  it("keeps 400 for malformed requests", async () => {
    for (const body of ["{oops", { n: "pageview" }, { n: "pageview", u: "data:text/html,x", d: "answers.test" }]) {
      const response = await postEvent(body);
      expect([response.status, response.headers.get("X-941-Dropped")]).toEqual([400, null]);
    }
  });
});

describe("source attribution", () => {
  it("lets utm_source win over the referrer and resolves Plausible's shorthands", async () => {
    const siteId = await createSite("sources-compat.test");
    const visit = (query: string, referrer: string | null, ip: string): [unknown, Record<string, string>] => [
      { n: "pageview", u: `https://sources-compat.test/${query}`, d: "sources-compat.test", r: referrer },
      { "CF-Connecting-IP": ip },
    ];
    const events = await stored(
      siteId,
      ["referrer", "source", "channel", "utm_source"],
      visit("?utm_source=newsletter", "https://news.ycombinator.com/item?id=1", "198.51.100.11"),
      visit("?utm_source=ig", null, "198.51.100.12"),
      visit("?utm_source=FB", "https://l.facebook.com/", "198.51.100.13"),
      visit("?utm_source=fb-ads", null, "198.51.100.14"),
      visit("?utm_source=gads", null, "198.51.100.15"),
      visit("?utm_source=yt", null, "198.51.100.16"),
      visit("?ref=producthunt", "https://news.ycombinator.com/", "198.51.100.17"),
      visit("", "https://news.ycombinator.com/", "198.51.100.18"),
    );
    expect(events).toEqual([
      { referrer: "https://news.ycombinator.com/item", source: "newsletter", channel: "Referral", utm_source: "newsletter" },
      { referrer: null, source: "Instagram", channel: "Organic Social", utm_source: "ig" },
      { referrer: "https://l.facebook.com/", source: "Facebook", channel: "Organic Social", utm_source: "FB" },
      { referrer: null, source: "Facebook", channel: "Paid Social", utm_source: "fb-ads" },
      { referrer: null, source: "Google", channel: "Paid Search", utm_source: "gads" },
      { referrer: null, source: "Youtube", channel: "Organic Video", utm_source: "yt" },
      { referrer: "https://news.ycombinator.com/", source: "producthunt", channel: "Referral", utm_source: null },
      { referrer: "https://news.ycombinator.com/", source: "Hacker News", channel: "Organic Social", utm_source: null },
    ]);
  });
});
