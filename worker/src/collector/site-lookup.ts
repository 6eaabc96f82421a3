/**
 * Domain -> site lookup in D1, cached per isolate. Hits are cached for SITE_CACHE_TTL_S; misses
 * for a few seconds only, long enough that a flood of events for an unknown domain costs one D1
 * query per isolate every few seconds, short enough that a newly added site starts collecting
 * almost at once. On a D1 error a stale entry is served rather than dropping traffic.
 */

/** A tracked site, as the collector needs it: identity plus the collector settings. */
export interface Site {
  id: string;
  domain: string;
  /** Hostnames allowed to send events for the site (parsed from the JSON column). */
  domains: string[];
  timezone: string;
  /** Events from subdomains of `domains` are accepted too. */
  allowSubdomains: boolean;
  /** Path patterns never counted (`*` one segment, `**` anything). */
  excludedPaths: string[];
  /** Events per minute per visitor hash; 0 = no limit. */
  rateLimitVisitor: number;
  /** Events per minute for the whole site; 0 = not set (the collector's RATE_LIMIT_SITE_DEFAULT applies, ingest/pipeline.ts). */
  rateLimitSite: number;
  /** Engaged time from which a one-page visit is not a bounce. */
  bounceThresholdMs: number;
  /** Days raw events are kept; null = forever. */
  retentionDays: number | null;
  /** The D1 binding holding the site's data (`DB`, `DB_2`, …; databases.ts). */
  database: string;
  /** Query parameters kept in stored URLs besides the UTM ones (ingest/scrub.ts). */
  keepQueryParams: string[];
  /** identify() is accepted (migration 0027; ingest/identity.ts). */
  identityEnabled: boolean;
  /** The trait keys identify() may store. */
  identityTraits: string[];
  /** The returning add-on's flag is stored on sessions. */
  returningEnabled: boolean;
}

/** The settings a site row without the 0002 columns (or with NULLs) gets. */
export const SITE_DEFAULTS = {
  allowSubdomains: false,
  excludedPaths: [],
  rateLimitVisitor: 120,
  rateLimitSite: 0,
  bounceThresholdMs: 10_000,
  retentionDays: null,
  database: "DB",
  keepQueryParams: [],
  identityEnabled: false,
  identityTraits: [],
  returningEnabled: false,
} as const satisfies Partial<Site>;

/** A `sites` row as selected here. */
export interface SiteRow {
  id: string;
  domain: string;
  domains: string;
  timezone: string;
  allow_subdomains?: number | null;
  excluded_paths?: string | null;
  rate_limit_visitor?: number | null;
  rate_limit_site?: number | null;
  bounce_threshold_ms?: number | null;
  retention_days?: number | null;
  database?: string | null;
  keep_query_params?: string | null;
  identity_enabled?: number | null;
  identity_traits?: string | null;
  returning_enabled?: number | null;
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
      .prepare(
        `SELECT id, domain, domains, timezone, allow_subdomains, excluded_paths, rate_limit_visitor,
                rate_limit_site, bounce_threshold_ms, retention_days, database, keep_query_params,
                identity_enabled, identity_traits, returning_enabled
         FROM sites WHERE domain = ?`,
      )
      .bind(domain)
      .first<SiteRow>();
    site = row ? siteFromRow(row) : null;
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

/** Builds a Site from its row; a malformed or missing setting falls back to its default. */
export function siteFromRow(row: SiteRow): Site {
  const count = (value: number | null | undefined, fallback: number) =>
    typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : fallback;
  return {
    id: row.id,
    domain: row.domain,
    domains: parseStrings(row.domains),
    timezone: row.timezone,
    allowSubdomains: row.allow_subdomains === 1,
    excludedPaths: parseStrings(row.excluded_paths ?? "[]"),
    rateLimitVisitor: count(row.rate_limit_visitor, SITE_DEFAULTS.rateLimitVisitor),
    rateLimitSite: count(row.rate_limit_site, SITE_DEFAULTS.rateLimitSite),
    bounceThresholdMs: count(row.bounce_threshold_ms, SITE_DEFAULTS.bounceThresholdMs),
    retentionDays: typeof row.retention_days === "number" ? row.retention_days : null,
    database: typeof row.database === "string" && row.database !== "" ? row.database : SITE_DEFAULTS.database,
    keepQueryParams: parseStrings(row.keep_query_params ?? "[]"),
    // Off unless exactly on: a malformed value must not turn identity on.
    identityEnabled: row.identity_enabled === 1,
    identityTraits: parseStrings(row.identity_traits ?? "[]"),
    returningEnabled: row.returning_enabled === 1,
  };
}

function parseStrings(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
  } catch {
    return [];
  }
}
