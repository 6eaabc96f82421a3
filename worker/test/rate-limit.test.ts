// Rate limits in fixed minutes of event time; 0 means no limit.
import { describe, expect, it } from "vitest";
import { RATE_WINDOW_MS, RateLimiter } from "../src/rate-limit";

describe("RateLimiter", () => {
  it("limits per visitor and per site within a minute, and starts over the next minute", () => {
    const limiter = new RateLimiter();
    const t0 = 10 * RATE_WINDOW_MS;
    expect([1, 2, 3].map(() => limiter.hit("a", t0, 2, 3))).toEqual([null, null, "visitor"]);
    expect(limiter.hit("b", t0 + 1, 2, 3)).toBeNull();
    expect(limiter.hit("c", t0 + 2, 2, 3)).toBe("site");
    expect(limiter.hit("a", t0 + RATE_WINDOW_MS, 2, 3)).toBeNull();
  });

  it("has no limit at 0", () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 1000; i++) expect(limiter.hit("a", 0, 0, 0)).toBeNull();
  });
});
