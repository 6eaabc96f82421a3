// Session rules as pure functions.
import { describe, expect, it } from "vitest";
import type { CollectedEvent } from "../src/contract";
import { applyEvent, SESSION_TIMEOUT_MS } from "../src/site-do/session";

const base: CollectedEvent = {
  id: "e", ts: 1_000_000, site_id: "s", name: "pageview", hostname: "h.test", pathname: "/",
  referrer: null, source: null, channel: "Direct", utm_source: null, utm_medium: null, utm_campaign: null,
  utm_term: null, utm_content: null, country: null, region: null, city: null, device: null, browser: null,
  browser_version: null, os: null, os_version: null, screen: null, props: null, revenue: null, interactive: true,
timezone: null, engaged_ms: null, scroll_depth: null,
};

describe("applyEvent", () => {
  it("continues at exactly the timeout and splits just after it", () => {
    const first = applyEvent(null, base, "v");
    expect(applyEvent(first, { ...base, ts: base.ts + SESSION_TIMEOUT_MS }, "v").id).toBe(first.id);
    expect(applyEvent(first, { ...base, ts: base.ts + SESSION_TIMEOUT_MS + 1 }, "v").id).not.toBe(first.id);
  });

  it("does not move the exit page back for a late, out-of-order pageview", () => {
    let session = applyEvent(null, { ...base, pathname: "/a" }, "v");
    session = applyEvent(session, { ...base, ts: base.ts + 5000, pathname: "/b" }, "v");
    session = applyEvent(session, { ...base, ts: base.ts - 1000, pathname: "/early" }, "v");
    expect(session).toMatchObject({ exit_page: "/b", started_at: base.ts - 1000, duration_ms: 6000, pageviews: 3 });
  });
});
