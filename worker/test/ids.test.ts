import { describe, expect, it } from "vitest";
import { timeOrderedId } from "../src/ids";

describe("timeOrderedId", () => {
  it("is a UUIDv7 carrying the timestamp in its first 48 bits", () => {
    const ts = Date.UTC(2026, 11, 1, 8, 30, 0, 123);
    const id = timeOrderedId(ts);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(ts);
  });

  it("sorts by time and does not repeat within one millisecond", () => {
    const ids = Array.from({ length: 2000 }, (_, i) => timeOrderedId(1_700_000_000_000 + Math.floor(i / 100)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 100; i < ids.length; i += 100) expect(ids[i - 1]! < ids[i]!).toBe(true);
  });
});
