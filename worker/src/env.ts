/**
 * The collector's bindings, as declared in wrangler.toml. Also merged into `Cloudflare.Env`, so
 * `env` imported from "cloudflare:workers" (tests included) is typed the same way.
 */
import type { SiteDO } from "./site-do/site-do";

/** Bindings and vars of the collector Worker and of SiteDO. */
export interface Env {
  /** The analytics database (schema.sql). */
  DB: D1Database;
  /** One SiteDO per site: sessions, visitor salts and the outbox to D1. */
  SITE_DO: DurableObjectNamespace<SiteDO>;
  /** Seconds a domain -> site lookup stays cached in the isolate. */
  SITE_CACHE_TTL_S: string;
  /** Milliseconds between an accepted event and the outbox flush to D1. */
  FLUSH_DELAY_MS: string;
  /** Milliseconds an isolate gathers drop counts before writing them to D1 in one batch. */
  DROP_FLUSH_DELAY_MS?: string;
  /** Events per minute one client IP (IPv6: one /64) may send to one site (default 600; 0 = no limit). */
  RATE_LIMIT_IP?: string;
  /** Events per minute for a site whose `rate_limit_site` is 0 (default 10000; 0 = no limit). */
  RATE_LIMIT_SITE_DEFAULT?: string;
  /** Site-days the cron recomputes per run (default 24): raise it to catch up faster. */
  ROLLUP_DAYS_PER_RUN?: string;
  /** Visits a page or country needs in a month for its other tabs to be rolled up (default 2000). */
  ROLLUP_FREQUENT_MIN_VISITS?: string;
  /**
   * HMAC key of realtime tokens; equals the dashboard's ANALYTICS_941_SECRET. A dev value is in
   * wrangler.toml [vars]; production sets it with `wrangler secret put REALTIME_SECRET`.
   */
  REALTIME_SECRET?: string;
}

type CollectorEnv = Env;

declare global {
  namespace Cloudflare {
    interface Env extends CollectorEnv {}
    // Types `ctx.exports` / `exports` from "cloudflare:workers" (used by tests as the Worker).
    interface GlobalProps {
      mainModule: typeof import("./index");
      durableNamespaces: "SiteDO";
    }
  }
}

/**
 * Reads a numeric var, falling back when it is missing or not a finite number: a typo in
 * wrangler.toml should degrade to the default, not break ingestion.
 */
export function numberVar(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(parsed) ? parsed : fallback;
}
