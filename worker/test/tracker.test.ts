// GET /script.js serves the built tracker within its size budget, and the tracker itself sends
// the right events (run against a minimal fake browser).
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FEATURE_GZIP_BUDGETS, TRACKER_FEATURES } from "../src/generated/tracker";
import { TRACKER_JS, TRACKER_VARIANTS } from "../src/generated/tracker-variants";

async function gzipSize(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

describe("GET /script.js", () => {
  it("serves the tracker as cacheable, CORS-enabled JavaScript", async () => {
    const response = await exports.default.fetch("https://collector.test/script.js");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/javascript/);
    expect(response.headers.get("Cache-Control")).toContain("max-age=3600");
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(response.headers.get("ETag")).toMatch(/^(W\/)?".+"$/);
    const body = await response.text();
    expect(body).toBe(TRACKER_JS);
    expect(body).toContain("/api/event");
  });

  it("gzips to 1024 bytes or less", async () => {
    // CompressionStream uses the default level; the build checks gzip -9, which is smaller.
    expect(await gzipSize(TRACKER_JS)).toBeLessThanOrEqual(1024);
  });

  it("answers a matching If-None-Match with 304, and another variant's ETag with the script", async () => {
    const get = (path: string, headers: HeadersInit = {}) => exports.default.fetch(`https://collector.test${path}`, { headers });
    const etag = (await get("/script.js")).headers.get("ETag") as string;
    const again = await get("/script.js", { "If-None-Match": etag });
    expect(again.status).toBe(304);
    expect(again.headers.get("Cache-Control")).toContain("max-age=3600");
    const other = await get("/script.clicks.js", { "If-None-Match": etag });
    expect(other.status).toBe(200);
    expect(await other.text()).toBe(TRACKER_VARIANTS["script.clicks.js"]);
  });

  it("answers HEAD with the headers and no body", async () => {
    const response = await exports.default.fetch("https://collector.test/script.js", { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/javascript/);
    expect(await response.text()).toBe("");
  });
});

describe("tracker variants", () => {
  it("serves each feature combination in any order, and 404s unknown features", async () => {
    const get = (path: string) => exports.default.fetch(`https://collector.test${path}`);
    const both = await get("/script.file-downloads.outbound-links.js");
    expect(both.status).toBe(200);
    expect(await both.text()).toBe(TRACKER_VARIANTS["script.outbound-links.file-downloads.js"]);
    expect(Object.keys(TRACKER_VARIANTS)).toHaveLength(2 ** TRACKER_FEATURES.length);
    expect((await get("/script.nope.js")).status).toBe(404);
    expect((await get("/script.outbound-links.outbound-links.js")).status).toBe(404);
  });

  it("keeps each feature within its budget over the default script: 300 bytes gzipped, 700 for errors", async () => {
    expect(FEATURE_GZIP_BUDGETS).toMatchObject({ "outbound-links": 300, errors: 700 });
    const base = await gzipSize(TRACKER_JS);
    for (const feature of TRACKER_FEATURES) {
      const budget = FEATURE_GZIP_BUDGETS[feature] as number;
      expect(await gzipSize(TRACKER_VARIANTS[`script.${feature}.js`] as string), feature).toBeLessThanOrEqual(base + budget);
    }
  });
});

type Listener = (event?: unknown) => void;

interface FakeOptions {
  code?: string;
  href?: string;
  hidden?: boolean;
  storage?: Record<string, unknown>;
  globals?: Record<string, unknown>;
  /** The clock at load (ms). */
  now?: number;
}

/** Runs the tracker in a fake page and returns what it sent and the page's controls. */
function runTracker(attributes: Record<string, string>, options: FakeOptions = {}) {
  const sent: { url: string; init: RequestInit; body: Record<string, unknown> }[] = [];
  const listeners: Record<string, Listener[]> = {};
  const target = (prefix: string) => ({
    addEventListener: (type: string, listener: Listener) => (listeners[prefix + type] ??= []).push(listener),
  });
  const location = new URL(options.href ?? "https://site.test/");
  const clock = { now: options.now ?? 1_000_000 };
  const history = {
    pushState(_state: unknown, _title: string, url: string) {
      location.href = new URL(url, location.href).href;
    },
  };
  const window: Record<string, unknown> = {
    innerWidth: 1024, innerHeight: 500, scrollY: 0, history, ...target("window:"), ...options.globals,
  };
  const document = {
    referrer: "https://ref.test/",
    title: "Home — Site",
    hidden: options.hidden ?? false,
    prerendering: false,
    focused: true,
    hasFocus: () => document.focused,
    documentElement: { scrollHeight: 2000 },
    currentScript: { src: "https://collector.test/script.js", getAttribute: (name: string) => attributes[name] ?? null },
    ...target("document:"),
  };
  const fetch = (url: string, init: RequestInit) => {
    sent.push({ url, init, body: JSON.parse(init.body as string) });
    return Promise.resolve(new Response(null, { status: 202 }));
  };
  const FakeDate = { now: () => clock.now };
  new Function("window", "document", "location", "fetch", "localStorage", "Date", "navigator", options.code ?? TRACKER_JS)(
    window, document, location, fetch, options.storage ?? {}, FakeDate, { language: "de-CH" },
  );
  const fire = (key: string, event?: unknown) => listeners[key]?.forEach((listener) => listener(event));
  return {
    sent,
    names: () => sent.map((s) => s.body.n),
    window,
    document,
    history,
    location,
    clock,
    fire,
    popstate: () => fire("window:popstate"),
  };
}

describe("tracker script", () => {
  it("sends a pageview on load to the script's origin, as a keepalive text body", () => {
    const { sent } = runTracker({ "data-domain": "site.test" });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe("https://collector.test/api/event");
    // A string body goes out as text/plain: a simple request, no CORS preflight.
    expect(sent[0]?.init).toMatchObject({ method: "POST", keepalive: true });
    expect(typeof sent[0]?.init.body).toBe("string");
    expect(sent[0]?.body).toEqual({ n: "pageview", u: "https://site.test/", d: "site.test", r: "https://ref.test/", w: 1024, t: "Home — Site", l: "de-CH" });
  });

  it("sends the title with pageviews only and the language with every event", () => {
    const page = runTracker({ "data-domain": "site.test" });
    (page.window.a941 as { event: (name: string) => void }).event("Signup");
    expect(page.sent.map((s) => [s.body.n, s.body.t, s.body.l])).toEqual([
      ["pageview", "Home — Site", "de-CH"],
      ["Signup", undefined, "de-CH"],
    ]);
  });

  it("sends pageviews on pushState and popstate, never twice for the same URL", () => {
    const page = runTracker({ "data-domain": "site.test", "data-api": "https://other.test/e" });
    page.history.pushState({}, "", "/docs");
    page.history.pushState({}, "", "/docs"); // same URL again
    page.history.pushState({}, "", "/docs#section"); // only the hash changed, not in hash mode
    page.popstate(); // fired for the same URL
    page.location.href = "https://site.test/";
    page.popstate(); // back to the first page
    const pageviews = page.sent.filter((s) => s.body.n === "pageview");
    expect(pageviews.map((s) => s.body.u)).toEqual(["https://site.test/", "https://site.test/docs", "https://site.test/"]);
    expect(page.sent.every((s) => s.url === "https://other.test/e")).toBe(true);
  });

  it("counts hash routes as pages with data-hash", () => {
    const page = runTracker({ "data-domain": "site.test", "data-hash": "" });
    page.location.hash = "#/settings";
    page.fire("window:hashchange");
    expect(page.sent.map((s) => [s.body.n, s.body.u, s.body.h])).toEqual([
      ["pageview", "https://site.test/", true],
      ["engagement", "https://site.test/", true], // the first page's report, then the new page
      ["pageview", "https://site.test/#/settings", true],
    ]);
  });

  it("exposes a941.event with props and revenue, replays the queue stub, and claims `analytics` only when free", () => {
    const queued = { q: [["Early", { props: { from: "stub" } }]] };
    const page = runTracker({ "data-domain": "site.test" }, { globals: { a941: queued } });
    (page.window.a941 as { event: (name: string, options: object) => void }).event("Signup", { props: { plan: "pro" }, revenue: 9.5 });
    expect(page.names()).toEqual(["pageview", "Early", "Signup"]);
    expect(page.sent[1]?.body).toMatchObject({ n: "Early", p: { from: "stub" } });
    expect(page.sent[2]?.body).toMatchObject({ n: "Signup", p: { plan: "pro" }, $: 9.5, d: "site.test" });
    expect(page.window.analytics).toBe(page.window.a941);

    const segment = { track() {} };
    expect(runTracker({}, { globals: { analytics: segment } }).window.analytics).toBe(segment);
  });

  it("reports engaged time and scroll depth on hide and on SPA navigation", () => {
    const page = runTracker({ "data-domain": "site.test" });
    page.clock.now += 4000;
    page.window.scrollY = 1500; // (1500 + 500) / 2000 = 100 %
    page.fire("document:scroll");
    page.document.hidden = true;
    page.fire("document:visibilitychange");
    expect(page.sent[1]?.body).toMatchObject({ n: "engagement", u: "https://site.test/", e: 4000, s: 100 });

    // Hidden time does not count; nothing new to report means no event.
    page.clock.now += 60_000;
    page.fire("document:visibilitychange");
    expect(page.sent).toHaveLength(2);
    page.document.hidden = false;
    page.fire("document:visibilitychange");
    page.clock.now += 1000;
    page.history.pushState({}, "", "/next");
    expect(page.names()).toEqual(["pageview", "engagement", "engagement", "pageview"]);
    expect(page.sent[2]?.body).toMatchObject({ u: "https://site.test/", e: 5000 });
  });

  it("waits while the page is hidden or prerendered, and counts back/forward-cache restores", () => {
    const page = runTracker({}, { hidden: true });
    expect(page.sent).toHaveLength(0);
    page.document.hidden = false;
    page.fire("document:visibilitychange");
    expect(page.names()).toEqual(["pageview"]);
    page.fire("window:pageshow", { persisted: false });
    page.fire("window:pageshow", { persisted: true });
    expect(page.names()).toEqual(["pageview", "pageview"]);
  });

  it("sends nothing for the owner's own visits or on localhost unless asked", () => {
    expect(runTracker({}, { storage: { a941_ignore: "true" } }).sent).toHaveLength(0);
    expect(runTracker({}, { href: "http://localhost:8000/" }).sent).toHaveLength(0);
    expect(runTracker({}, { href: "http://127.0.0.1:8000/" }).sent).toHaveLength(0);
    expect(runTracker({ "data-include-localhost": "" }, { href: "http://localhost:8000/" }).sent).toHaveLength(1);
  });

  it("sends one non-interactive 404 event for the page load marked with data-404, none on SPA navigation", () => {
    const page = runTracker({ "data-404": "" }, { href: "https://site.test/missing" });
    // Non-interactive: a visit that only saw the missing page can still be a bounce.
    expect(page.sent[1]?.body).toMatchObject({ n: "404", p: { path: "/missing" }, i: false });
    page.history.pushState({}, "", "/found");
    page.history.pushState({}, "", "/also-found");
    expect(page.names().filter((name) => name !== "engagement")).toEqual(["pageview", "404", "pageview", "pageview"]);
  });

  it("sends the 404 event only after a hidden page's pageview went out", () => {
    const page = runTracker({ "data-404": "" }, { href: "https://site.test/missing", hidden: true });
    expect(page.sent).toHaveLength(0);
    page.document.hidden = false;
    page.fire("document:visibilitychange");
    expect(page.names()).toEqual(["pageview", "404"]);
  });

  it("replays queued calls only after the pageview went out, also while the page was hidden or prerendered", () => {
    const queued = { q: [["Early", { props: { from: "stub" } }]] };
    const page = runTracker({ "data-domain": "site.test" }, { hidden: true, globals: { a941: queued } });
    const a941 = page.window.a941 as { event: (name: string, options?: object) => void };
    a941.event("While hidden");
    expect(page.sent).toHaveLength(0);
    page.document.hidden = false;
    page.fire("document:visibilitychange");
    a941.event("Later");
    expect(page.names()).toEqual(["pageview", "Early", "While hidden", "Later"]);
    expect(page.sent[1]?.body).toMatchObject({ n: "Early", p: { from: "stub" } });
  });
});

describe("tracker consent mode (data-consent=\"required\")", () => {
  type Api = { event: (name: string, options?: object) => void; consent: (yes: boolean) => void };

  it("sends nothing before consent, drops the calls made before it, and counts the page once granted", () => {
    const stub = { q: [["Early", {}]] };
    const page = runTracker({ "data-consent": "required", "data-404": "" }, { href: "https://site.test/missing", globals: { a941: stub } });
    const a941 = page.window.a941 as Api;
    a941.event("Before consent");
    page.clock.now += 4000;
    page.document.hidden = true;
    page.fire("document:visibilitychange");
    page.document.hidden = false;
    page.fire("document:visibilitychange");
    page.history.pushState({}, "", "/elsewhere");
    expect(page.sent).toHaveLength(0);

    a941.consent(true);
    a941.event("After consent");
    expect(page.names()).toEqual(["pageview", "404", "After consent"]);
    expect(page.sent[0]?.body).toMatchObject({ u: "https://site.test/elsewhere" });
    // Granting again on the same page does not count it twice.
    a941.consent(true);
    expect(page.sent).toHaveLength(3);
  });

  it("stops sending on consent(false), and counts the page shown when consent comes back", () => {
    const page = runTracker({ "data-consent": "required" });
    const a941 = page.window.a941 as Api;
    a941.consent(true);
    a941.consent(false);
    a941.event("Revoked");
    page.clock.now += 3000;
    page.history.pushState({}, "", "/next");
    page.document.hidden = true;
    page.fire("document:visibilitychange");
    expect(page.names()).toEqual(["pageview"]);
    page.document.hidden = false;
    page.fire("document:visibilitychange");
    a941.consent(true);
    // No engagement report for the time on "/" while consent was withdrawn.
    expect(page.names()).toEqual(["pageview", "pageview"]);
    expect(page.sent[1]?.body).toMatchObject({ u: "https://site.test/next" });
  });

  it("reads an answer the stub recorded before the script loaded", () => {
    expect(runTracker({ "data-consent": "required" }, { globals: { a941: { q: [], c: true } } }).names()).toEqual(["pageview"]);
    expect(runTracker({ "data-consent": "required" }, { globals: { a941: { q: [], c: false } } }).sent).toHaveLength(0);
    // Without data-consent the tracker sends at once, as before.
    expect(runTracker({}).names()).toEqual(["pageview"]);
  });
});

describe("tracker feature variants", () => {
  const variant = (name: string) => TRACKER_VARIANTS[name] as string;
  /** A fake element with the attributes and `closest` answers a click handler looks at. */
  const element = (link: Record<string, string> | null, tagged: Record<string, string> | null) => ({
    closest: (selector: string) =>
      selector.startsWith("a[href]")
        ? link
        : tagged && {
            attributes: Object.entries(tagged).map(([name, value]) => ({ name, value })),
            getAttribute: (name: string) => tagged[name] ?? null,
          },
  });
  const link = (href: string) => {
    const url = new URL(href);
    return { href, host: url.host, protocol: url.protocol, pathname: url.pathname };
  };

  it("outbound-links: clicks on links to other hosts", () => {
    const page = runTracker({}, { code: variant("script.outbound-links.js") });
    page.fire("document:click", { target: element(link("https://elsewhere.test/a"), null) });
    page.fire("document:click", { target: element(link("https://site.test/internal"), null) });
    page.fire("document:auxclick", { target: element(link("https://elsewhere.test/b"), null) });
    expect(page.sent.slice(1).map((s) => [s.body.n, (s.body.p as { url: string }).url])).toEqual([
      ["Outbound Link: Click", "https://elsewhere.test/a"],
      ["Outbound Link: Click", "https://elsewhere.test/b"],
    ]);
    // The default script has no click tracking at all.
    const plain = runTracker({});
    plain.fire("document:click", { target: element(link("https://elsewhere.test/a"), null) });
    expect(plain.sent).toHaveLength(1);
  });

  it("file-downloads: clicks on links to files", () => {
    const page = runTracker({}, { code: variant("script.file-downloads.js") });
    page.fire("document:click", { target: element(link("https://site.test/files/report.pdf"), null) });
    page.fire("document:click", { target: element(link("https://site.test/about"), null) });
    expect(page.sent.slice(1).map((s) => s.body)).toEqual([
      expect.objectContaining({ n: "File Download", p: { url: "https://site.test/files/report.pdf" } }),
    ]);
  });

  it("tagged-events: data-a941-* attributes on clicked elements and forms", () => {
    const page = runTracker({}, { code: variant("script.tagged-events.js") });
    const tags = { "data-a941-event": "Signup", "data-a941-prop-plan": "pro", "data-a941-revenue": "9.5", class: "btn" };
    page.fire("document:click", { target: element(null, tags) });
    const form = { hasAttribute: (name: string) => name === "data-a941-event", ...element(null, null),
      attributes: [{ name: "data-a941-event", value: "Contact" }], getAttribute: () => "Contact" };
    page.fire("document:submit", { target: form });
    expect(page.sent.slice(1).map((s) => s.body)).toEqual([
      expect.objectContaining({ n: "Signup", p: { plan: "pro" }, $: "9.5" }),
      expect.objectContaining({ n: "Contact", p: {} }),
    ]);
  });

  it("form-submissions: every form submit", () => {
    const page = runTracker({}, { code: variant("script.form-submissions.js") });
    page.fire("document:submit", { target: { id: "newsletter", hasAttribute: () => false, getAttribute: () => null } });
    expect(page.sent[1]?.body).toMatchObject({ n: "Form: Submission", p: { path: "/", form: "newsletter" } });
  });

  describe("errors", () => {
    /** An Error as V8 builds it: its stack starts with the message, then "at" frames. */
    const thrown = (message: string, frames: string[], name = "TypeError") =>
      Object.assign(new Error(message), { name, stack: [`${name}: ${message}`, ...frames.map((f) => `    at ${f}`)].join("\n") });
    const errorProps = (page: ReturnType<typeof runTracker>) => page.sent.filter((s) => s.body.n === "JS error").map((s) => s.body.p as Record<string, unknown>);

    it("reports an uncaught error once per page view with a stack that keeps only the site's paths", () => {
      const page = runTracker({}, { code: variant("script.errors.js") });
      const error = thrown("x is undefined", [
        "render (https://site.test/static/app.js?v=3&token=abc:12:34)",
        "https://site.test/static/vendor.js:1:200",
        "track (https://cdn.other.test/lib.js?key=k:5:6)",
        "chrome-extension://abcdef/inject.js:9:9",
      ]);
      const event = { error, message: "Uncaught TypeError: x is undefined", filename: "https://site.test/static/app.js?v=3&token=abc", lineno: 12, colno: 34 };
      page.fire("window:error", event);
      page.fire("window:error", event);
      const [props, ...more] = errorProps(page);
      expect(more).toEqual([]);
      expect(props).toEqual({
        message: "x is undefined",
        type: "TypeError",
        file: "/static/app.js",
        line: 12,
        column: 34,
        stack: ["at render (/static/app.js:12:34)", "at /static/vendor.js:1:200", "at track (<other origin>)", "at <other origin>"].join("\n"),
        fingerprint: expect.stringMatching(/^[0-9a-z]+$/),
      });
      expect(page.sent.find((s) => s.body.n === "JS error")?.body).toMatchObject({ i: false });
      // A new page view reports it again.
      page.history.pushState({}, "", "/next");
      page.fire("window:error", event);
      expect(errorProps(page)).toHaveLength(2);
    });

    it("reports rejections and a941.error(err), taking file and line from the stack; at most five per page view", () => {
      const page = runTracker({}, { code: variant("script.errors.js") });
      page.fire("window:unhandledrejection", { reason: thrown("failed", ["load (https://site.test/app.js:3:4)"], "Error") });
      page.fire("window:unhandledrejection", { reason: "plain string" });
      (page.window.a941 as { error: (err: unknown) => void }).error(thrown("caught", ["https://site.test/app.js:7:8"], "RangeError"));
      const [rejected, plain, caught] = errorProps(page);
      expect(rejected).toMatchObject({ message: "failed", type: "Error", file: "/app.js", line: "3", column: "4" });
      expect(plain).toMatchObject({ message: "plain string", type: "Error", stack: "" });
      expect(caught).toMatchObject({ message: "caught", type: "RangeError", file: "/app.js", line: "7", stack: "at /app.js:7:8" });
      expect(new Set([rejected, plain, caught].map((p) => p?.fingerprint)).size).toBe(3);
      for (let i = 0; i < 5; i++) page.fire("window:unhandledrejection", { reason: `more ${i}` });
      expect(errorProps(page)).toHaveLength(5);
    });

    it("is not in the default script", () => {
      const page = runTracker({});
      expect((page.window.a941 as { error?: unknown }).error).toBeUndefined();
      expect(TRACKER_JS).not.toContain("JS error");
    });
  });
});

describe("tracker identify and returning add-ons", () => {
  type Api = { event: (name: string) => void; consent: (yes: boolean) => void; identify?: (id: unknown, traits?: object) => void };
  const variant = (name: string) => TRACKER_VARIANTS[name] as string;
  const DAY = 86_400_000;
  /** A localStorage stand-in: own properties as the items, removeItem as the browser's. */
  const storage = (): Record<string, unknown> => Object.defineProperty({}, "removeItem", { value(this: Record<string, unknown>, key: string) { delete this[key]; } });

  it("identify: sends the id and traits with every later event of the page, at once as an engagement report", () => {
    const page = runTracker({}, { code: variant("script.identify.js") });
    const a941 = page.window.a941 as Api;
    expect(page.sent[0]?.body).not.toHaveProperty("U");
    page.clock.now += 2000;
    a941.identify?.("user-7", { plan: "pro" });
    expect(page.sent[1]?.body).toMatchObject({ n: "engagement", u: "https://site.test/", U: "user-7", T: { plan: "pro" } });
    a941.event("Signup");
    page.history.pushState({}, "", "/next");
    expect(page.sent.slice(2).map((s) => [s.body.n, s.body.U])).toEqual([["Signup", "user-7"], ["pageview", "user-7"]]);
    // A number is sent as its text; null forgets the id.
    a941.identify?.(42);
    expect(page.sent.at(-1)?.body).toMatchObject({ n: "engagement", U: "42" });
    a941.identify?.(null);
    a941.event("Anonymous");
    expect(page.sent.at(-1)?.body).not.toHaveProperty("U");
  });

  it("identify: the stub's call before the script loaded rides on the first pageview; nothing before consent", () => {
    const stub = { q: [], i: ["early-user", { team: "ops" }] };
    expect(runTracker({}, { code: variant("script.identify.js"), globals: { a941: stub } }).sent[0]?.body).toMatchObject({ n: "pageview", U: "early-user", T: { team: "ops" } });
    const page = runTracker({ "data-consent": "required" }, { code: variant("script.identify.js") });
    const a941 = page.window.a941 as Api;
    a941.identify?.("waiting-user");
    expect(page.sent).toHaveLength(0);
    a941.consent(true);
    expect(page.sent.map((s) => [s.body.n, s.body.U])).toEqual([["pageview", "waiting-user"]]);
  });

  it("returning: one boolean and the day of the last visit in localStorage; returning from an earlier day on", () => {
    const store = storage();
    const load = (now: number) => runTracker({}, { code: variant("script.returning.js"), storage: store, now });
    const day = 20_000;
    const first = load(day * DAY + 5_000);
    expect(first.sent[0]?.body).toMatchObject({ n: "pageview", R: false });
    expect({ ...store }).toEqual({ a941_seen: 0, a941_day: day });
    // Every event of the page says so (the collector keeps the visit's first).
    (first.window.a941 as Api).event("Signup");
    expect(first.sent[1]?.body).toMatchObject({ R: false });
    // The same day again: still new; a visit counts as returning from the next day on, for good.
    expect(load(day * DAY + 80_000_000).sent[0]?.body).toMatchObject({ R: false });
    expect(load((day + 1) * DAY + 1).sent[0]?.body).toMatchObject({ R: true });
    expect({ ...store }).toEqual({ a941_seen: 1, a941_day: day + 1 });
    expect(load((day + 1) * DAY + 2).sent[0]?.body).toMatchObject({ R: true });
    // Storage that throws (blocked): nothing said, the event still sent.
    const blocked = runTracker({}, { code: variant("script.returning.js"), storage: new Proxy({}, { get() { throw new Error("denied"); } }) });
    expect(blocked.sent[0]?.body).not.toHaveProperty("R");
  });

  it("returning: with consent required, no storage is read or written and nothing sent before consent; revoking forgets", () => {
    const store = storage();
    const touched: string[] = [];
    const watched = new Proxy(store, {
      get: (target, key) => (touched.push(`get ${String(key)}`), Reflect.get(target, key)),
      set: (target, key, value) => (touched.push(`set ${String(key)}`), Reflect.set(target, key, value)),
    });
    const page = runTracker({ "data-consent": "required" }, { code: variant("script.returning.js"), storage: watched });
    (page.window.a941 as Api).event("Early");
    // The core's own-visit switch (a941_ignore) is the only key looked at.
    expect(page.sent).toHaveLength(0);
    expect(touched).toEqual(["get a941_ignore"]);
    (page.window.a941 as Api).consent(true);
    expect(page.sent[0]?.body).toMatchObject({ n: "pageview", R: false });
    expect(Object.keys(store).sort()).toEqual(["a941_day", "a941_seen"]);
    (page.window.a941 as Api).consent(false);
    expect(Object.keys(store)).toEqual([]);
  });

  it("neither is in the default script", () => {
    const store = storage();
    const page = runTracker({}, { storage: store });
    expect((page.window.a941 as Api).identify).toBeUndefined();
    expect(page.sent[0]?.body).not.toHaveProperty("R");
    expect(Object.keys(store)).toEqual([]);
    expect(TRACKER_JS).not.toContain("a941_seen");
  });
});
