/**
 * The collector's bindings, as declared in wrangler.toml. Also merged into `Cloudflare.Env`
 * (cloudflare-env.d.ts), so `env` imported from "cloudflare:workers" is typed the same way.
 */
import type { SiteDO, SiteEnv } from "./site-do/site-do";
import type { WebhookDO, WebhookEnv } from "./webhooks/webhook-do";

/** Bindings and vars of the collector Worker and of SiteDO. */
export interface Env extends SiteEnv, WebhookEnv {
  /** One SiteDO per site: sessions, visitor salts and the outbox to D1. */
  SITE_DO: DurableObjectNamespace<SiteDO>;
  /** Optional data databases `DB_2`, `DB_3`, …: the data of the sites placed in them (databases.ts). */
  [binding: `DB_${number}`]: D1Database | undefined;
  /** Seconds a domain -> site lookup stays cached in the isolate. */
  SITE_CACHE_TTL_S: string;
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
  CRON_D1_QUERIES?: string;
  /**
   * "on" only in local development (scripts/devstack.py passes it to `wrangler dev`): take a
   * loopback request's geo from the X-941-Simulated-Geo header (collector/enrich/geo.ts).
   */
  SIMULATED_GEO?: string;
  /**
   * HMAC key of realtime tokens; equals the dashboard's ANALYTICS_941_SECRET. A dev value is in
   * wrangler.toml [vars]; production sets it with `wrangler secret put REALTIME_SECRET`.
   */
  REALTIME_SECRET?: string;
  /**
   * Optional R2 bucket of raw archives (docs/archive.md): sites with `archive_raw` have each day
   * written here before the retention purge deletes it. Without it those sites are not purged.
   */
  ARCHIVE?: R2Bucket;
  /** The tracker's variants, built into worker/tracker/dist (wrangler.toml [assets]; collector/tracker.ts). */
  ASSETS: Fetcher;
  /** Email reports (docs/reports.md): `send_email`, `smtp` or `resend`; unset, no report is sent. */
  MAIL_DRIVER?: string;
  /** The reports' sender address, and its display name. */
  MAIL_FROM?: string;
  MAIL_FROM_NAME?: string;
  /** "1" in development and tests only: SMTP to loopback/private hosts, port 25 and plain SMTP. */
  MAIL_DEV?: string;
  /** Cloudflare's send_email binding (`[[send_email]] name = "SEND_EMAIL"`). */
  SEND_EMAIL?: SendEmail;
  /** SMTP submission: host, port (465; 587 with starttls), `tls` | `starttls`, user; the password is a secret. */
  SMTP_HOST?: string;
  SMTP_PORT?: string;
  SMTP_SECURITY?: string;
  SMTP_USER?: string;
  SMTP_PASSWORD?: string;
  /** The `resend` driver's API key (a secret) and, for tests only (MAIL_DEV), another endpoint. */
  RESEND_API_KEY?: string;
  MAIL_API_URL?: string;
  /** The dashboard's address with its mount (https://example.com/admin/analytics): links in reports. */
  REPORTS_DASHBOARD_URL?: string;
  /** Reports one cron run sends at most (default 10). */
  REPORTS_PER_RUN?: string;
  /** Alert rules one cron run measures at most (default 50; docs/alerts.md). */
  ALERTS_PER_RUN?: string;
  /** One WebhookDO per site: the delivery schedule of its webhooks (docs/webhooks.md). */
  WEBHOOK_DO?: DurableObjectNamespace<WebhookDO>;
}
