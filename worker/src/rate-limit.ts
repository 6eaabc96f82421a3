/**
 * Rate limits per visitor hash and per site, in fixed one-minute windows of event time. Kept in
 * the SiteDO's memory, not storage: a limit is a guard against floods, and a DO restart
 * forgetting the current minute's counts is harmless, while a storage write per event is not.
 */

/** The window of both limits. */
export const RATE_WINDOW_MS = 60_000;

/** Counts events per visitor and per site within the current minute. */
export class RateLimiter {
  private window = -1;
  private site = 0;
  private readonly visitors = new Map<string, number>();

  /**
   * Counts one event and says which limit it exceeds: "visitor", "site", or null when it is
   * within both. A limit of 0 means no limit. A rejected event is not counted, so a visitor
   * stopped by the site limit is not also penalised later.
   */
  hit(visitorId: string, ts: number, visitorLimit: number, siteLimit: number): "visitor" | "site" | null {
    const window = Math.floor(ts / RATE_WINDOW_MS);
    if (window > this.window) {
      this.window = window;
      this.site = 0;
      this.visitors.clear();
    }
    const visitorCount = (this.visitors.get(visitorId) ?? 0) + 1;
    if (visitorLimit > 0 && visitorCount > visitorLimit) return "visitor";
    if (siteLimit > 0 && this.site + 1 > siteLimit) return "site";
    this.visitors.set(visitorId, visitorCount);
    this.site++;
    return null;
  }
}
