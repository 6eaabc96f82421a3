// Session rules as pure functions.
import { describe, expect, it } from "vitest";
import type { CollectedEvent } from "../src/contract";
import { applyEvent, SESSION_TIMEOUT_MS } from "../src/site-do/session";
import { collectedEvent } from "./helpers";

const base: CollectedEvent = collectedEvent({ id: "e", ts: 1_000_000, site_id: "s", hostname: "h.test", pathname: "/", channel: "Direct" });

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
