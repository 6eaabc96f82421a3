/**
 * WebhookDO — one per site: the delivery schedule of its webhooks. `enqueue` stores each
 * message (URL, secret, body) in the object's SQLite storage before it returns, so from then on
 * a delivery is attempted until an endpoint answers 2xx or ATTEMPT_DELAYS_MS runs out (eight
 * attempts over about 27 hours, the Standard Webhooks schedule): at least once. The alarm sends
 * what is due, each attempt with a fresh timestamp and signature, and writes the outcome (status
 * code or error, attempts, next try) to the delivery's row in D1 (`webhook_deliveries`), the log
 * the site's settings show. A receiver deduplicates by `webhook-id`, which every attempt keeps.
 */
import { DurableObject } from "cloudflare:workers";
import { destinationProblem } from "./destination";
import { webhookHeaders } from "./sign";

/** Delay before each attempt after the previous one failed (the first is at once). */
export const ATTEMPT_DELAYS_MS = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
/** Deliveries one alarm sends at most; the rest wait for the next alarm, set at once. */
const PER_ALARM = 20;
const TIMEOUT_MS = 15_000;

/** One message for one endpoint. */
export interface WebhookJob {
  id: string;
  url: string;
  secret: string;
  body: string;
}

interface StoredJob extends WebhookJob {
  attempts: number;
  next_at: number;
}

/** What one attempt came to. */
export interface Attempt {
  ok: boolean;
  status: number | null;
  error: string | null;
}

/** The bindings WebhookDO reads (env.ts's Env extends them, as SiteDO's SiteEnv). */
export interface WebhookEnv {
  /** The home database, where webhook_deliveries live. */
  DB: D1Database;
  /** "1" in development and tests only: webhooks may go to http and loopback/private hosts. */
  WEBHOOK_DEV?: string;
}

/** Whether the collector may deliver to loopback/private http endpoints (tests, local dev). */
export function devWebhooks(env: WebhookEnv): boolean {
  return env.WEBHOOK_DEV === "1" || env.WEBHOOK_DEV === "true";
}

/** POSTs a signed job once; never throws. Redirects are not followed (their target is unchecked). */
export async function attemptDelivery(job: WebhookJob, nowMs: number, dev: boolean, fetcher: typeof fetch = fetch): Promise<Attempt> {
  const refused = destinationProblem(job.url, dev);
  if (refused) return { ok: false, status: null, error: `refused: ${refused}` };
  try {
    const headers = await webhookHeaders(job.secret, job.id, Math.floor(nowMs / 1000), job.body);
    const response = await fetcher(job.url, {
      method: "POST", body: job.body, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: { ...headers, "Content-Type": "application/json", "User-Agent": "941-analytics-webhooks/1" },
    });
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 300;
    return { ok, status: response.status, error: ok ? null : `answered ${response.status}` };
  } catch (error) {
    return { ok: false, status: null, error: String((error as Error)?.message ?? error).replace(/[^\x20-\x7e]/g, "?").slice(0, 200) };
  }
}

const LIVE_SQL = "SELECT id FROM webhook_deliveries WHERE id IN (SELECT value FROM json_each(?))";
const LOG_SQL = "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, last_status = ?4, last_error = ?5, next_attempt_at = ?6, delivered_at = ?7 WHERE id = ?1";

export class WebhookDO extends DurableObject<WebhookEnv> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: WebhookEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, url TEXT NOT NULL, secret TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL)");
  }

  /** Stores the jobs (a job already queued starts its attempts over) and arms the alarm. */
  async enqueue(jobs: WebhookJob[], nowMs = Date.now()): Promise<void> {
    for (const job of jobs) {
      this.sql.exec("INSERT INTO jobs (id, url, secret, body, attempts, next_at) VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, body = excluded.body, attempts = 0, next_at = excluded.next_at",
        job.id, job.url, job.secret, job.body, nowMs);
    }
    await this.arm(nowMs);
  }

  /** Jobs still waiting (tests and the settings' "pending"). */
  pending(): number {
    return Number(this.sql.exec("SELECT COUNT(*) AS n FROM jobs").one().n);
  }

  private async arm(nowMs: number): Promise<void> {
    const next = this.sql.exec("SELECT MIN(next_at) AS at FROM jobs").one().at;
    if (next === null) return;
    const current = await this.ctx.storage.getAlarm();
    const at = Math.max(Number(next), nowMs);
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    await this.deliverDue(Date.now());
  }

  /** Sends the jobs due at `nowMs` and re-arms; how many it sent. The alarm's body (tests call it). */
  async deliverDue(nowMs: number, fetcher: typeof fetch = fetch): Promise<number> {
    const due = this.sql.exec<StoredJob & Record<string, SqlStorageValue>>("SELECT id, url, secret, body, attempts, next_at FROM jobs WHERE next_at <= ? ORDER BY next_at LIMIT ?", nowMs, PER_ALARM).toArray();
    if (due.length === 0) return 0;
    // A delivery whose row is gone (its endpoint or site was deleted) is dropped unsent.
    const live = new Set((await this.env.DB.prepare(LIVE_SQL).bind(JSON.stringify(due.map((j) => j.id))).all<{ id: string }>()).results.map((r) => r.id));
    for (const job of due.filter((j) => !live.has(j.id))) this.sql.exec("DELETE FROM jobs WHERE id = ?", job.id);
    const dev = devWebhooks(this.env);
    const sending = due.filter((j) => live.has(j.id));
    await Promise.all(sending.map(async (job) => {
      const outcome = await attemptDelivery(job, nowMs, dev, fetcher);
      const attempts = Number(job.attempts) + 1;
      const delay = ATTEMPT_DELAYS_MS[attempts];
      const done = outcome.ok || delay === undefined;
      const nextAt = done ? 0 : nowMs + delay;
      const status = outcome.ok ? "delivered" : done ? "failed" : "pending";
      // The log first: if it fails, the job stays as it was and the next alarm tries again.
      await this.env.DB.prepare(LOG_SQL).bind(job.id, status, attempts, outcome.status, outcome.error, nextAt, outcome.ok ? nowMs : null).run();
      if (done) this.sql.exec("DELETE FROM jobs WHERE id = ?", job.id);
      else this.sql.exec("UPDATE jobs SET attempts = ?, next_at = ? WHERE id = ?", attempts, nextAt, job.id);
    }));
    if (due.length === PER_ALARM) await this.ctx.storage.setAlarm(nowMs);
    else await this.arm(nowMs);
    return sending.length;
  }
}
