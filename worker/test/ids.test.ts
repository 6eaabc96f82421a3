import { describe, expect, it } from "vitest";
import { ALPHABET, timeOfId, timeOrderedId } from "../src/ids";

/** The timestamp an id carries in its first 8 characters. */
function timeOf(id: string): number {
  return [...id.slice(0, 8)].reduce((ms, ch) => ms * 64 + ALPHABET.indexOf(ch), 0);
}

describe("timeOrderedId", () => {
  it("is 15 characters of the ordered alphabet carrying the timestamp in the first 8", () => {
    const ts = Date.UTC(2026, 11, 1, 8, 30, 0, 123);
    const id = timeOrderedId(ts);
    expect(id).toMatch(/^[-0-9A-Z_a-z]{15}$/);
    expect(timeOf(id)).toBe(ts);
    expect(timeOf(timeOrderedId(2 ** 48 - 1))).toBe(2 ** 48 - 1);
  });

  it("sorts by time as a string and does not repeat within one millisecond", () => {
    expect([...ALPHABET].sort().join("")).toBe(ALPHABET);
    const ids = Array.from({ length: 2000 }, (_, i) => timeOrderedId(1_700_000_000_000 + Math.floor(i / 100) * 4099));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 100; i < ids.length; i += 100) expect(ids[i - 1]! < ids[i]!).toBe(true);
  });

  it("timeOfId reads the time of these ids and of the UUIDv7 ids written before them", () => {
    const ts = Date.UTC(2026, 5, 30, 23, 59, 59, 999);
    expect(timeOfId(timeOrderedId(ts))).toBe(ts);
    const hex = ts.toString(16).padStart(12, "0");
    expect(timeOfId(`${hex.slice(0, 8)}-${hex.slice(8)}-7abc-8def-0123456789ab`)).toBe(ts);
    expect(timeOfId("not-an-id")).toBeNull();
  });
});
