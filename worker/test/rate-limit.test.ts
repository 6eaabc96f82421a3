// Rate limits in fixed minutes of event time, per visitor, per IP key and per site; 0 means no limit.
import { describe, expect, it } from "vitest";
import { IpKeys, ipPrefix, RATE_WINDOW_MS, RateLimiter } from "../src/site-do/rate-limit";

const limits = (visitor: number, ip: number, site: number) => ({ visitor, ip, site });

describe("RateLimiter", () => {
  it("limits per visitor and per site within a minute, and starts over the next minute", () => {
    const limiter = new RateLimiter();
    const t0 = 10 * RATE_WINDOW_MS;
    expect([1, 2, 3].map(() => limiter.hit("a", "ip-a", t0, limits(2, 0, 3)))).toEqual([null, null, "per_visitor"]);
    expect(limiter.hit("b", "ip-b", t0 + 1, limits(2, 0, 3))).toBeNull();
    expect(limiter.hit("c", "ip-c", t0 + 2, limits(2, 0, 3))).toBe("per_site");
    expect(limiter.hit("a", "ip-a", t0 + RATE_WINDOW_MS, limits(2, 0, 3))).toBeNull();
  });

  it("limits one IP key across visitors, and does not count what it refuses", () => {
    const limiter = new RateLimiter();
    const outcomes = ["v1", "v2", "v3", "v4"].map((visitor) => limiter.hit(visitor, "ip", 0, limits(10, 3, 100)));
    expect(outcomes).toEqual([null, null, null, "per_ip"]);
    expect(limiter.hit("v5", "other-ip", 0, limits(10, 3, 100))).toBeNull();
    // The refused event was not counted for its visitor or the site.
    const site = new RateLimiter();
    site.hit("v", "ip", 0, limits(0, 1, 2));
    expect(site.hit("w", "ip", 0, limits(0, 1, 2))).toBe("per_ip");
    expect(site.hit("w", "ip2", 0, limits(0, 1, 2))).toBeNull();
  });

  it("has no limit at 0", () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 1000; i++) expect(limiter.hit("a", "ip", 0, limits(0, 0, 0))).toBeNull();
  });
});

describe("IP bucket keys", () => {
  it("take an IPv4 address whole and an IPv6 address by its /64", () => {
    expect(ipPrefix("203.0.113.7")).toBe("203.0.113.7");
    expect(ipPrefix("2001:db8:1:2::7")).toBe("2001:db8:1:2");
    expect(ipPrefix("2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2");
    expect(ipPrefix("2001:db8::1")).toBe("2001:db8:0:0");
    expect(ipPrefix("::1")).toBe("0:0:0:0");
    expect(ipPrefix("::ffff:192.0.2.1")).toBe("::ffff:192.0.2.1");
  });

  it("are an HMAC under a key of the instance: same prefix same key, no address in it", async () => {
    const keys = new IpKeys();
    const a = await keys.keyFor("2001:db8:1:2::7");
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(await keys.keyFor("2001:db8:1:2::8")).toBe(a);
    expect(await keys.keyFor("2001:db8:1:3::7")).not.toBe(a);
    expect(await keys.keyFor("203.0.113.7")).not.toBe(await keys.keyFor("203.0.113.8"));
    expect(await new IpKeys().keyFor("2001:db8:1:2::7")).not.toBe(a); // another instance, another key
  });
});
