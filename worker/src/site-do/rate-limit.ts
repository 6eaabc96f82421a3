/**
 * Rate limits per visitor hash, per client IP and per site, in fixed one-minute windows of event
 * time. Kept in the SiteDO's memory, not storage: a limit is a guard against floods, and a DO
 * restart forgetting the current minute's counts is harmless, while a storage write per event is
 * not. The IP bucket is keyed by ipBucketKey (an HMAC under a key that lives only in this
 * memory), holds counts only and is never stored: it stops one address that rotates user agents
 * (a new visitor hash each time) from adding visitors without end.
 */
import type { RateBucket } from "../words";

/** The window of every limit. */
export const RATE_WINDOW_MS = 60_000;

/**
 * Events per minute from one IP address (an IPv6 /64) to one site, by default. One browser sends
 * a few events a minute (pageviews, engagement reports) and is capped at 120 by the visitor
 * limit; 600 lets a large office or campus behind one NAT (a couple of hundred people on the same
 * site at once) through, while one address faking visitors adds at most 600 a minute.
 */
export const DEFAULT_RATE_LIMIT_IP = 600;

/**
 * Events per minute for a whole site whose own limit is 0 (unset), by default: about 14 million
 * events a day at a steady rate. A site with a million pageviews a day sends ~2 million events
 * (pageviews and engagement reports), ~1,400 a minute on average and a few thousand at its
 * busiest minute: far below. A flood is cut at what one DO and D1 take with ease.
 */
export const DEFAULT_RATE_LIMIT_SITE = 10_000;

export type { RateBucket };

/** The limits one event is checked against, events per minute; 0 = no limit. */
export interface RateLimits {
  visitor: number;
  ip: number;
  site: number;
}

/** Counts events per visitor, per IP key and per site within the current minute. */
export class RateLimiter {
  private window = -1;
  private site = 0;
  private readonly visitors = new Map<string, number>();
  private readonly ips = new Map<string, number>();

  /**
   * Counts one event and says which limit it exceeds, or null when it is within all three. A
   * rejected event is not counted, so a visitor stopped by the site limit is not also penalised
   * later.
   */
  hit(visitorId: string, ipKey: string, ts: number, limits: RateLimits): RateBucket | null {
    const window = Math.floor(ts / RATE_WINDOW_MS);
    if (window > this.window) {
      this.window = window;
      this.site = 0;
      this.visitors.clear();
      this.ips.clear();
    }
    const visitorCount = (this.visitors.get(visitorId) ?? 0) + 1;
    if (limits.visitor > 0 && visitorCount > limits.visitor) return "per_visitor";
    const ipCount = (this.ips.get(ipKey) ?? 0) + 1;
    if (limits.ip > 0 && ipCount > limits.ip) return "per_ip";
    if (limits.site > 0 && this.site + 1 > limits.site) return "per_site";
    this.visitors.set(visitorId, visitorCount);
    this.ips.set(ipKey, ipCount);
    this.site++;
    return null;
  }
}

/**
 * The part of an address that names one client: an IPv4 address whole, an IPv6 address by its
 * /64 (one subscriber gets a /64 and can use any address in it).
 */
export function ipPrefix(ip: string): string {
  // IPv4, and IPv6 holding an IPv4 address (::ffff:192.0.2.1): whole, or all would share one /64.
  if (!ip.includes(":") || ip.includes(".")) return ip;
  const [head = "", tail] = ip.toLowerCase().split("::", 2);
  const groups = head === "" ? [] : head.split(":");
  if (tail !== undefined) {
    // "::" stands for as many zero groups as make eight.
    const rest = tail === "" ? [] : tail.split(":");
    while (groups.length + rest.length < 8) groups.push("0");
    groups.push(...rest);
  }
  return groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, "")).join(":");
}

/**
 * Turns client addresses into IP bucket keys: HMAC-SHA256 of the address's prefix under a random
 * key made when the DO starts and never stored, cut to 16 hex digits. So the limiter's memory
 * holds no address, and a key means nothing outside this DO instance.
 */
export class IpKeys {
  private readonly key = crypto.subtle.importKey(
    "raw", crypto.getRandomValues(new Uint8Array(32)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"],
  );

  async keyFor(ip: string): Promise<string> {
    const mac = await crypto.subtle.sign("HMAC", await this.key, new TextEncoder().encode(ipPrefix(ip)));
    return [...new Uint8Array(mac, 0, 8)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  }
}
