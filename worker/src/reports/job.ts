/**
 * The cron's report job (after the rollups): sends each subscribed recipient the last closed
 * week (on Monday) and month (on the 1st) of the site's timezone, once the rollups answer for it.
 *
 * Exactly once per (site, recipient, kind, period): a run first *claims* the period's sent-log
 * row (report_sends, an insert-or-update that only succeeds for a new row, a failed row whose
 * backoff is over, or a claim abandoned for STALE_CLAIM_MS), then sends, then marks it sent. A
 * second run at the same time finds the row claimed; a run that stops halfway leaves the others
 * unclaimed for the next run. The one window left is a run that dies after the provider accepted
 * a mail and before the mark: its claim goes stale and the mail is sent again, with the same
 * Message-ID (the `resend` driver's idempotency key, so that provider drops it). Each sent report
 * emits a `report.sent` webhook event (webhooks/events.ts). Failures: `failed`, retried after RETRY_BASE_MS × 2^(attempt-1), MAX_ATTEMPTS in
 * all (a 5xx refusal ends at once); the error is shown in the site's settings.
 */
import type { Env } from "../env";
import { DEV_SECRET, MIN_SECRET_BYTES } from "../collector/realtime/token";
import { devMail, mailerFromEnv } from "../mail/config";
import { MailError, type Mailer } from "../mail/mailer";
import { unsubscribeHeaders, type MailMessage } from "../mail/message";
import { numberVar } from "../vars";
import { GRACE_MS } from "../rollup/statements";
import { periodReady, readReport, type ReportData, type SiteRow } from "./data";
import { lastClosedPeriod, REPORT_KINDS, type Period, type ReportKind } from "./periods";
import { dashboardLink, renderReport } from "./render";
import { unsubscribeToken, unsubscribeUrl } from "./tokens";
import { emitEvent } from "../webhooks/events";

export const REPORTS_PER_RUN = 10;
export const MAX_ATTEMPTS = 6;
export const RETRY_BASE_MS = 15 * 60_000;
export const STALE_CLAIM_MS = 60 * 60_000;
/** Subscriptions one run looks at (the oldest unsent periods first). */
const MAX_SUBSCRIPTIONS = 1000;

const SUBSCRIPTIONS_SQL = `SELECT r.site_id AS site_id, r.email AS email, r.weekly AS weekly, r.monthly AS monthly, r.created_at AS created_at, s.id AS id, s.domain AS domain, s.name AS name, s.timezone AS timezone, s.database AS database FROM report_subscriptions AS r JOIN sites AS s ON s.id = r.site_id WHERE r.weekly = 1 OR r.monthly = 1 ORDER BY r.site_id, r.email LIMIT ${MAX_SUBSCRIPTIONS}`;
const SENDS_SQL = "SELECT site_id, email, kind, period_start, status, next_attempt_at, claimed_at FROM report_sends WHERE period_start >= ?";
const CLAIM_SQL = "INSERT INTO report_sends (site_id, email, kind, period_start, status, attempts, claimed_at) VALUES (?1, ?2, ?3, ?4, 'sending', 1, ?5) "
  + "ON CONFLICT (site_id, email, kind, period_start) DO UPDATE SET status = 'sending', attempts = report_sends.attempts + 1, claimed_at = excluded.claimed_at "
  + "WHERE (report_sends.status = 'failed' AND report_sends.next_attempt_at > 0 AND report_sends.next_attempt_at <= ?5) "
  + "OR (report_sends.status = 'sending' AND report_sends.claimed_at <= ?5 - ?6) RETURNING attempts";
const SENT_SQL = "UPDATE report_sends SET status = 'sent', sent_at = ?5, last_error = NULL, next_attempt_at = 0 WHERE site_id = ?1 AND email = ?2 AND kind = ?3 AND period_start = ?4 AND claimed_at = ?6";
const FAILED_SQL = "UPDATE report_sends SET status = 'failed', last_error = ?5, next_attempt_at = ?6 WHERE site_id = ?1 AND email = ?2 AND kind = ?3 AND period_start = ?4 AND claimed_at = ?7";

interface Subscription extends SiteRow {
  site_id: string;
  email: string;
  weekly: number;
  monthly: number;
  created_at: number;
}

interface SendRow {
  site_id: string;
  email: string;
  kind: string;
  period_start: string;
  status: string;
  next_attempt_at: number;
  claimed_at: number;
}

/** What a report needs besides its numbers: sender, links, the shared secret. */
export interface ReportConfig {
  mailer: Mailer;
  from: string;
  fromName: string;
  dashboardUrl: string;
  secret: string;
}

/** The report configuration of `env`, or why reports cannot be sent. */
export function reportConfig(env: Env): { ok: true; config: ReportConfig } | { ok: false; reason: string } {
  const choice = mailerFromEnv(env);
  if (!choice.ok) return choice;
  const url = env.REPORTS_DASHBOARD_URL ?? "";
  if (!/^https?:\/\/[^\s"'<>]+$/.test(url)) return { ok: false, reason: "REPORTS_DASHBOARD_URL is not an http(s) URL" };
  if (!env.REALTIME_SECRET) return { ok: false, reason: "REALTIME_SECRET is not set (it signs unsubscribe links)" };
  // The public development secret would let anyone sign unsubscribe links: only with MAIL_DEV.
  if (!devMail(env) && (env.REALTIME_SECRET === DEV_SECRET || new TextEncoder().encode(env.REALTIME_SECRET).byteLength < MIN_SECRET_BYTES)) {
    return { ok: false, reason: `REALTIME_SECRET is the development value or shorter than ${MIN_SECRET_BYTES} bytes` };
  }
  return { ok: true, config: { mailer: choice.mailer, from: choice.from, fromName: env.MAIL_FROM_NAME ?? "941 Analytics", dashboardUrl: url, secret: env.REALTIME_SECRET } };
}

/** The message of one report to one recipient (the Message-ID is the same for every attempt). */
export async function reportMessage(config: ReportConfig, data: ReportData, email: string, test = false): Promise<MailMessage> {
  const unsubscribe = unsubscribeUrl(config.dashboardUrl, await unsubscribeToken(config.secret, data.site.id, email));
  const rendered = renderReport(data, { dashboard: dashboardLink(config.dashboardUrl, data), unsubscribe });
  const host = config.from.split("@")[1] ?? "localhost";
  const id = test ? crypto.randomUUID() : `${data.kind}.${data.period.current.first}.${await shortHash(`${data.site.id}\u0000${email}`)}`;
  return {
    from: config.from, fromName: config.fromName, to: email,
    subject: test ? `[Test] ${rendered.subject}` : rendered.subject, text: rendered.text, html: rendered.html,
    messageId: `report.${id}@${host}`,
    headers: { ...unsubscribeHeaders(unsubscribe), "Auto-Submitted": "auto-generated" },
  };
}

async function shortHash(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What a run did: reports sent, failed, and periods not ready yet. */
export interface ReportRun {
  sent: number;
  failed: number;
  waiting: number;
}

interface Candidate {
  sub: Subscription;
  kind: ReportKind;
  period: Period;
}

/** Which (subscription, kind) pairs are due at `nowMs`, oldest period first, at most `limit`. */
function dueCandidates(subs: Subscription[], sends: SendRow[], nowMs: number, limit: number): Candidate[] {
  const log = new Map(sends.map((s) => [`${s.site_id}\u0000${s.email}\u0000${s.kind}\u0000${s.period_start}`, s]));
  const due: Candidate[] = [];
  for (const sub of subs) {
    for (const kind of REPORT_KINDS) {
      if (!(kind === "weekly" ? sub.weekly : sub.monthly)) continue;
      let period: Period;
      try {
        period = lastClosedPeriod(kind, nowMs, sub.timezone);
      } catch {
        continue; // a timezone the runtime does not know: the dashboard refuses it too
      }
      // Subscribed after the period closed: the first report is the next one.
      if (sub.created_at > period.current.endMs || period.current.endMs + GRACE_MS > nowMs) continue;
      const row = log.get(`${sub.site_id}\u0000${sub.email}\u0000${kind}\u0000${period.current.first}`);
      if (row?.status === "sent") continue;
      if (row?.status === "sending" && row.claimed_at > nowMs - STALE_CLAIM_MS) continue;
      if (row?.status === "failed" && (row.next_attempt_at === 0 || row.next_attempt_at > nowMs)) continue;
      due.push({ sub, kind, period });
    }
  }
  return due.sort((a, b) => a.period.current.first.localeCompare(b.period.current.first)).slice(0, limit);
}

/**
 * Sends the due reports. `home` and `data` (by binding name) are the cron's budgeted databases;
 * `homeRaw` is the unbudgeted home database, used only to mark a claimed report sent or failed
 * (at most `limit` calls, inside the room the budget leaves under D1's limit), so a spent budget
 * never strands a mail already handed to the provider.
 */
export async function sendDueReports(
  env: Env, home: D1Database, data: (binding: string) => D1Database, homeRaw: D1Database, nowMs: number,
  config?: ReportConfig,
): Promise<ReportRun> {
  const run: ReportRun = { sent: 0, failed: 0, waiting: 0 };
  let chosen = config;
  if (!chosen) {
    const checked = reportConfig(env);
    if (!checked.ok) return run; // reports off, or misconfigured: docs/reports.md
    chosen = checked.config;
  }
  const limit = Math.max(1, Math.floor(numberVar(env.REPORTS_PER_RUN, REPORTS_PER_RUN)));
  const subs = (await home.prepare(SUBSCRIPTIONS_SQL).all<Subscription>()).results;
  if (subs.length === 0) return run;
  const oldest = lastClosedPeriod("monthly", nowMs, "UTC").previous.first;
  const sends = (await home.prepare(SENDS_SQL).bind(oldest).all<SendRow>()).results;
  const ready = new Map<string, Promise<ReportData | null>>();
  for (const { sub, kind, period } of dueCandidates(subs, sends, nowMs, limit)) {
    const key = `${sub.site_id}\u0000${kind}`;
    if (!ready.has(key)) {
      const db = data(sub.database);
      ready.set(key, periodReady(db, sub.site_id, period).then((ok) => (ok ? readReport(home, db, sub, period) : null)));
    }
    const report = await ready.get(key);
    if (!report) {
      run.waiting++;
      continue;
    }
    const args = [sub.site_id, sub.email, kind, period.current.first];
    const claimed = await home.prepare(CLAIM_SQL).bind(...args, nowMs, STALE_CLAIM_MS).first<{ attempts: number }>();
    if (!claimed) continue; // another run has it
    try {
      await chosen.mailer.send(await reportMessage(chosen, report, sub.email));
      await homeRaw.prepare(SENT_SQL).bind(...args, Date.now(), nowMs).run();
      run.sent++;
      // The site's webhooks hear of it; their failure is no failure of the report.
      await emitEvent(env, homeRaw, sub.site_id, "report.sent", {
        site: sub.domain, kind, from: period.current.first, to: period.current.last, recipient: sub.email,
      }).catch((error: unknown) => console.error("reports: the report.sent webhook event failed", error));
    } catch (error) {
      const permanent = error instanceof MailError && error.permanent;
      const attempts = Number(claimed.attempts);
      const next = permanent || attempts >= MAX_ATTEMPTS ? 0 : nowMs + RETRY_BASE_MS * 2 ** (attempts - 1);
      const reason = (error instanceof MailError ? error.message : `unexpected error: ${String((error as Error)?.message ?? error)}`).slice(0, 300);
      await homeRaw.prepare(FAILED_SQL).bind(...args, reason, next, nowMs).run();
      run.failed++;
    }
  }
  return run;
}
