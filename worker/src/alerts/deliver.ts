/**
 * A fired alert goes out: a short mail to the site's alert recipients (the reports' Mailer) and a
 * `threshold.exceeded` webhook event to the endpoints subscribed to it, then one alert_log row
 * (what the settings show). Each says why the rule fired, with its numbers, and links to the
 * dashboard view of the hours measured, and carries its recipient's one-click unsubscribe link
 * (List-Unsubscribe, RFC 8058) when the dashboard's URL and a strong secret are configured. A
 * mail that fails is queued as it was (alert_mail_retries) and retried by the cron with backoff
 * (retry.ts); the log row says so until it is sent.
 */
import type { Env } from "../env";
import { timeOrderedId } from "../ids";
import { mailerFromEnv } from "../mail/config";
import { MailError, type Mailer } from "../mail/mailer";
import { unsubscribeHeaders, type MailMessage } from "../mail/message";
import { reportConfig, RETRY_BASE_MS } from "../reports/job";
import { escapeHtml, plain } from "../reports/render";
import { unsubscribeToken, unsubscribeUrl } from "../reports/tokens";
import { emitEvent } from "../webhooks/events";
import type { Finding, Rule } from "./rules";
import { oneLine } from "../unsafe-chars";

export interface AlertSite {
  id: string;
  domain: string;
  timezone: string;
}

/** Who sends alert mail, or null when no mailer is configured (webhooks still go out). */
export interface AlertMail {
  mailer: Mailer;
  from: string;
  fromName: string;
  /** What signs each recipient's unsubscribe link (the reports' settings), or none: no link. */
  unsubscribe?: { secret: string; dashboardUrl: string } | null;
}

const LABELS: Record<Rule["kind"], string> = {
  spike: "traffic spike", drop: "traffic drop", no_events: "no events",
  goal_above: "goal conversions above threshold", goal_below: "goal conversions below threshold",
  error_rate: "JS error rate",
};

export const LOG_DAYS = 90;
/** Sends of one alert mail in all, as for the reports (the first and five retries over ~8 hours). */
export const ALERT_MAIL_ATTEMPTS = 6;
const PRUNE_SQL = "DELETE FROM alert_log WHERE site_id = ? AND fired_at < ?";
const LOG_SQL = "INSERT INTO alert_log (id, site_id, rule_id, fired_at, test, summary, mail, mail_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
const QUEUE_SQL = "INSERT INTO alert_mail_retries (id, log_id, site_id, email, message, attempts, next_attempt_at, last_error, created_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)";
const PRUNE_QUEUE_SQL = "DELETE FROM alert_mail_retries WHERE site_id = ? AND created_at < ?";

/** The mail settings of `env` (shared with the reports), or null. */
export function alertMail(env: Env): AlertMail | null {
  const choice = mailerFromEnv(env);
  if (!choice.ok) return null;
  const signed = reportConfig(env);
  return {
    mailer: choice.mailer, from: choice.from, fromName: env.MAIL_FROM_NAME ?? "941 Analytics",
    unsubscribe: signed.ok ? { secret: signed.config.secret, dashboardUrl: signed.config.dashboardUrl } : null,
  };
}

/** When a mail that failed `attempts` times is tried again (0: never; a 5xx refusal is final). */
export function nextAttempt(error: unknown, attempts: number, nowMs: number, maxAttempts: number): number {
  const permanent = error instanceof MailError && error.permanent;
  return permanent || attempts >= maxAttempts ? 0 : nowMs + RETRY_BASE_MS * 2 ** (attempts - 1);
}

/** A failure as one short line for the log and the settings (never a secret). */
export function failureText(error: unknown): string {
  return (error instanceof MailError ? error.message : `unexpected error: ${String((error as Error)?.message ?? error)}`).slice(0, 200);
}

function localDay(ms: number, timezone: string): string {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(ms);
  } catch {
    return new Date(ms).toISOString().slice(0, 10);
  }
}

/** The dashboard view of the hours measured (the errors page for the error rate), or null. */
export function alertLink(env: Env, site: AlertSite, rule: Rule, finding: Finding): string | null {
  const base = env.REPORTS_DASHBOARD_URL ?? "";
  if (!/^https?:\/\/[^\s"'<>]+$/.test(base)) return null;
  const page = rule.kind === "error_rate" ? "/errors" : "";
  const from = localDay(finding.from, site.timezone);
  const to = localDay(Math.max(finding.from, finding.to - 1), site.timezone);
  return `${base.replace(/\/+$/, "")}/${encodeURIComponent(site.domain)}${page}?period=custom&from=${from}&to=${to}`;
}

/** The webhook payload's `data` (never a visitor id: alerts are counts). */
export function alertData(site: AlertSite, rule: Rule, finding: Finding, link: string | null, test: boolean): Record<string, unknown> {
  return {
    site: site.domain, test,
    rule: { id: rule.id, kind: rule.kind, goal: rule.goal || null, threshold: rule.threshold, window_hours: rule.window_hours, min_volume: rule.min_volume, cooldown_minutes: rule.cooldown_minutes },
    reason: finding.reason, values: finding.values,
    from: new Date(finding.from).toISOString(), to: new Date(finding.to).toISOString(), link,
  };
}

/** A reason as one line of text (a goal's name is the owner's, but still no control characters). */
function sentence(value: string): string {
  return oneLine(value).slice(0, 500);
}

/** `sentence` escaped for HTML element content (escapeHtml would shorten it like a table cell). */
function sentenceHtml(value: string): string {
  return sentence(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function message(mail: AlertMail, to: string, site: AlertSite, rule: Rule, finding: Finding, link: string | null, test: boolean, id: string): Promise<MailMessage> {
  const label = LABELS[rule.kind] + (rule.goal ? ` (${rule.goal})` : "");
  const subject = plain(`${test ? "[Test] " : ""}${site.domain}: ${label}`);
  const reason = sentence(finding.reason);
  const signer = mail.unsubscribe;
  const stop = signer ? unsubscribeUrl(signer.dashboardUrl, await unsubscribeToken(signer.secret, site.id, to, "alerts")) : null;
  const text = `${subject}\n\n${reason}.\n${link ? `\nOpen the dashboard: ${link}\n` : ""}\nSent by 941 Analytics because this address receives the alerts of ${plain(site.domain)}; change them in the site's settings.\n${stop ? `Stop these alert mails: ${stop}\n` : ""}`;
  const html = `<!doctype html><html><body style="margin:0;padding:16px;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1a1a1a;background:#ffffff">`
    + `<h1 style="font-size:18px;margin:0 0 12px">${escapeHtml(subject)}</h1><p style="font-size:15px;line-height:1.5;margin:0 0 16px">${sentenceHtml(finding.reason)}.</p>`
    + (link ? `<p style="margin:0 0 16px"><a href="${escapeHtml(link)}" style="color:#1d4ed8">Open the dashboard</a></p>` : "")
    + `<p style="font-size:12px;color:#555;margin:0">Sent by 941 Analytics because this address receives the alerts of ${escapeHtml(site.domain)}; change them in the site's settings.`
    + (stop ? ` <a href="${escapeHtml(stop)}" style="color:#555">Stop these alert mails</a>.` : "") + `</p></body></html>`;
  const host = mail.from.split("@")[1] ?? "localhost";
  return {
    from: mail.from, fromName: mail.fromName, to, subject, text, html, messageId: `alert.${id}@${host}`,
    headers: { ...(stop ? unsubscribeHeaders(stop) : {}), "Auto-Submitted": "auto-generated" },
  };
}

/** What one delivery did: mail sent / failed / none, and the webhook deliveries queued. */
export interface Delivered {
  logId: string;
  mail: "sent" | "failed" | "none";
  mailError: string | null;
  deliveries: string[];
}

/**
 * Sends one alert: mail to `recipients`, the webhook event, the log row (all on `home`, the home
 * database). A webhook failure is logged to the console and does not stop the mail or the log.
 */
export async function deliverAlert(
  env: Env, home: D1Database, mail: AlertMail | null, recipients: string[], site: AlertSite, rule: Rule, finding: Finding,
  nowMs: number, test = false,
): Promise<Delivered> {
  const link = alertLink(env, site, rule, finding);
  const logId = timeOrderedId(nowMs);
  let status: Delivered["mail"] = "none";
  let mailError: string | null = null;
  const queued: D1PreparedStatement[] = [];
  if (mail && recipients.length > 0) {
    const failures: string[] = [];
    for (const [i, to] of recipients.entries()) {
      const id = `${logId}.${i}`;
      const built = await message(mail, to, site, rule, finding, link, test, id);
      try {
        await mail.mailer.send(built);
      } catch (error) {
        // A test alert's failure is shown at once in the settings; a real one is retried.
        const next = test ? 0 : nextAttempt(error, 1, nowMs, ALERT_MAIL_ATTEMPTS);
        failures.push(`${to}: ${failureText(error)}${next ? " (retrying)" : ""}`);
        if (!test) queued.push(home.prepare(QUEUE_SQL).bind(id, logId, site.id, to, JSON.stringify(built), next, failureText(error), nowMs));
      }
    }
    status = failures.length === 0 ? "sent" : "failed";
    mailError = failures.length ? failures.join("; ").slice(0, 300) : null;
  } else if (recipients.length > 0) {
    mailError = "no mailer is configured (MAIL_DRIVER)";
  }
  const deliveries = await emitEvent(env, home, site.id, "threshold.exceeded", alertData(site, rule, finding, link, test), nowMs)
    .catch((error: unknown) => {
      console.error("alerts: the threshold.exceeded webhook event failed", error);
      return [] as string[];
    });
  // The log keeps LOG_DAYS per site: pruned as it grows, in the same call.
  await home.batch([
    home.prepare(LOG_SQL).bind(logId, site.id, rule.id, nowMs, test ? 1 : 0, finding.reason.slice(0, 500), status, mailError),
    ...queued,
    home.prepare(PRUNE_SQL).bind(site.id, nowMs - LOG_DAYS * 86_400_000),
    home.prepare(PRUNE_QUEUE_SQL).bind(site.id, nowMs - LOG_DAYS * 86_400_000),
  ]);
  return { logId, mail: status, mailError, deliveries };
}
