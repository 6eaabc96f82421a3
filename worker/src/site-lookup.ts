/**
 * Domain -> site lookup in D1, cached per isolate. Hits are cached for SITE_CACHE_TTL_S; misses
 * for a few seconds only, long enough that a flood of events for an unknown domain costs one D1
 * query per isolate every few seconds, short enough that a newly added site starts collecting
 * almost at once. On a D1 error a stale entry is served rather than dropping traffic.
 */

/** A tracked site, as the collector needs it. */
export interface Site {
  id: string;
  domain: string;
  /** Hostnames allowed to send events for the site (parsed from the JSON column). */
  domains: string[];
  timezone: string;
}

interface CacheEntry {
  site: Site | null;
  expiresAt: number;
}

/** Seconds an unknown domain stays cached (capped by the configured TTL). */
export const MISS_TTL_S = 5;
/** Entries kept per isolate; the oldest are evicted first. */
export const MAX_CACHE_ENTRIES = 10_000;

const cache = new Map<string, CacheEntry>();

/**
 * Returns the site whose `domain` is `domain`, or null when there is none.
 * @throws when D1 fails and no cached entry (even a stale one) exists.
 */
export async function lookupSite(db: D1Database, domain: string, ttlSeconds: number, now = Date.now()): Promise<Site | null> {
  const cached = cache.get(domain);
  if (cached && cached.expiresAt > now) return cached.site;

  let site: Site | null;
  try {
    const row = await db
      .prepare("SELECT id, domain, domains, timezone FROM sites WHERE domain = ?")
      .bind(domain)
      .first<{ id: string; domain: string; domains: string; timezone: string }>();
    site = row ? { id: row.id, domain: row.domain, domains: parseDomains(row.domains), timezone: row.timezone } : null;
  } catch (error) {
    if (cached) return cached.site;
    throw error;
  }

  const ttl = site ? ttlSeconds : Math.min(ttlSeconds, MISS_TTL_S);
  cache.delete(domain); // re-insert so Map order tracks recency for eviction
  cache.set(domain, { site, expiresAt: now + ttl * 1000 });
  if (cache.size > MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  return site;
}

/** Empties the isolate cache. For tests that change `sites` between requests. */
export function clearSiteCache(): void {
  cache.clear();
}

function parseDomains(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
  } catch {
    return [];
  }
}
