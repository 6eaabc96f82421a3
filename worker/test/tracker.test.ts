// GET /script.js serves the built tracker within its size budget, and the tracker itself sends
// the right events (run against a minimal fake browser).
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TRACKER_ETAG, TRACKER_JS } from "../src/generated/tracker";

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
    expect(response.headers.get("ETag")).toBe(TRACKER_ETAG);
    const body = await response.text();
    expect(body).toBe(TRACKER_JS);
    expect(body).toContain("/api/event");
  });

  it("gzips to 1024 bytes or less", async () => {
    // CompressionStream uses the default level; the build checks gzip -9, which is smaller.
    expect(await gzipSize(TRACKER_JS)).toBeLessThanOrEqual(1024);
  });

  it("answers a matching If-None-Match with 304", async () => {
    const response = await exports.default.fetch("https://collector.test/script.js", { headers: { "If-None-Match": TRACKER_ETAG } });
    expect(response.status).toBe(304);
  });
});

/** Runs the tracker in a fake page and returns what it sent and the page's controls. */
function runTracker(attributes: Record<string, string>) {
  const sent: { url: string; init: RequestInit; body: Record<string, unknown> }[] = [];
  const listeners: Record<string, () => void> = {};
  const location = { href: "https://site.test/", hostname: "site.test" };
  const history = {
    pushState(_state: unknown, _title: string, url: string) {
      location.href = new URL(url, location.href).href;
    },
  };
  const window: Record<string, unknown> = {
    innerWidth: 1024,
    history,
    addEventListener: (type: string, listener: () => void) => (listeners[type] = listener),
  };
  const document = {
    referrer: "https://ref.test/",
    currentScript: { src: "https://collector.test/script.js", getAttribute: (name: string) => attributes[name] ?? null },
  };
  const fetch = (url: string, init: RequestInit) => {
    sent.push({ url, init, body: JSON.parse(init.body as string) });
    return Promise.resolve(new Response(null, { status: 202 }));
  };
  new Function("window", "document", "location", "fetch", TRACKER_JS)(window, document, location, fetch);
  return { sent, window, history, location, popstate: () => listeners.popstate?.() };
}

describe("tracker script", () => {
  it("sends a pageview on load to the script's origin, as text/plain with keepalive", () => {
    const { sent } = runTracker({ "data-domain": "site.test" });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe("https://collector.test/api/event");
    expect(sent[0]?.init).toMatchObject({ method: "POST", keepalive: true, headers: { "Content-Type": "text/plain" } });
    expect(sent[0]?.body).toEqual({ n: "pageview", u: "https://site.test/", d: "site.test", r: "https://ref.test/", w: 1024 });
  });

  it("sends pageviews on pushState and popstate, never twice for the same URL", () => {
    const page = runTracker({ "data-domain": "site.test", "data-api": "https://other.test/e" });
    page.history.pushState({}, "", "/docs");
    page.history.pushState({}, "", "/docs"); // same URL again
    page.popstate(); // fired for the same URL
    page.location.href = "https://site.test/";
    page.popstate(); // back to the first page
    expect(page.sent.map((s) => s.body.u)).toEqual(["https://site.test/", "https://site.test/docs", "https://site.test/"]);
    expect(page.sent.every((s) => s.url === "https://other.test/e")).toBe(true);
  });

  it("exposes a941.event for custom events with props and revenue", () => {
    const page = runTracker({ "data-domain": "site.test" });
    (page.window.a941 as { event: (name: string, options: object) => void }).event("Signup", { props: { plan: "pro" }, revenue: 9.5 });
    expect(page.sent[1]?.body).toMatchObject({ n: "Signup", p: { plan: "pro" }, $: 9.5, d: "site.test" });
  });
});
