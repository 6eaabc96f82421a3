// Alert mails beyond the first send: each recipient's one-click unsubscribe link (RFC 8058
// headers, a token the dashboard reads as "alerts"), and a mail the provider refused sent again
// by the cron after its backoff, once, through whichever mailer works by then; a final (5xx)
// refusal is not retried; the log row says what is left.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ALERT_MAIL_ATTEMPTS, alertMail, deliverAlert, type AlertMail } from "../src/alerts/deliver";
import { CLAIM_MS, retryAlertMails } from "../src/alerts/retry";
import type { Finding, Rule } from "../src/alerts/rules";
import type { Env } from "../src/env";
import { MailError, type Mailer } from "../src/mail/mailer";
import { buildMime, unsubscribeHeaders, type MailMessage } from "../src/mail/message";
import { RETRY_BASE_MS } from "../src/reports/job";
import { unsubscribeToken } from "../src/reports/tokens";

const NOW = Date.UTC(2026, 0, 12, 3, 7);
const SECRET = env.REALTIME_SECRET as string;
const DASHBOARD = "https://dash.test/admin/analytics";

/** A provider stand-in: refuses with `refusal` while it is set, records what it accepted. */
class SwitchMailer implements Mailer {
  readonly driver = "switch";
  readonly sent: MailMessage[] = [];
  refusal: MailError | null = null;
  async send(message: MailMessage): Promise<void> {
    buildMime(message);
    if (this.refusal) throw this.refusal;
    this.sent.push(message);
  }
}

function mailWith(mailer: Mailer): AlertMail {
  return { mailer, from: "alerts@941.test", fromName: "941 Analytics", unsubscribe: { secret: SECRET, dashboardUrl: DASHBOARD } };
}

async function seed(id: string): Promise<{ site: { id: string; domain: string; timezone: string }; rule: Rule; finding: Finding }> {
  await env.DB.prepare("INSERT INTO sites (id, domain, name, timezone, created_at) VALUES (?1, ?1 || '.test', ?1, 'UTC', 0)").bind(id).run();
  const rule: Rule = { id: `${id}-r`, site_id: id, kind: "no_events", goal: "", threshold: 6, window_hours: 6, min_volume: 0, cooldown_minutes: 360, last_fired_at: 0 };
  const finding: Finding = { fires: true, reason: "No events for 6 h", values: {}, from: NOW - 6 * 3_600_000, to: NOW };
  return { site: { id, domain: `${id}.test`, timezone: "UTC" }, rule, finding };
}

async function log(logId: string) {
  return env.DB.prepare("SELECT mail, mail_error FROM alert_log WHERE id = ?").bind(logId).first<{ mail: string; mail_error: string | null }>();
}

describe("alert mails' unsubscribe link", () => {
  it("carries List-Unsubscribe with the recipient's signed alerts token and the one-click header", async () => {
    const { site, rule, finding } = await seed("un");
    const mailer = new SwitchMailer();
    await deliverAlert(env as unknown as Env, env.DB, mailWith(mailer), ["a@example.com", "b@example.com"], site, rule, finding, NOW);
    expect(mailer.sent).toHaveLength(2);
    for (const sent of mailer.sent) {
      const url = `${DASHBOARD}/reports/unsubscribe?t=${await unsubscribeToken(SECRET, "un", sent.to, "alerts")}`;
      expect(sent.headers).toEqual({ "List-Unsubscribe": `<${url}>`, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click", "Auto-Submitted": "auto-generated" });
      expect(sent.text).toContain(`Stop these alert mails: ${url}`);
      expect(buildMime(sent)).toContain("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    }
    // The token says "alerts": it is not a reports token of the same address.
    expect(await unsubscribeToken(SECRET, "un", "a@example.com", "alerts")).not.toBe(await unsubscribeToken(SECRET, "un", "a@example.com"));
  });

  it("offers one click only over https (RFC 8058); a local http dashboard gets the link alone", () => {
    expect(unsubscribeHeaders("http://localhost:8000/u?t=1")).toEqual({ "List-Unsubscribe": "<http://localhost:8000/u?t=1>" });
    expect(unsubscribeHeaders("https://d.test/u?t=1")["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
  });

  it("is signed only when the dashboard's URL and secret are configured", () => {
    const base = { MAIL_DRIVER: "resend", MAIL_FROM: "a@941.test", RESEND_API_KEY: "k", REALTIME_SECRET: SECRET };
    expect(alertMail({ ...base, REPORTS_DASHBOARD_URL: DASHBOARD } as unknown as Env)?.unsubscribe).toEqual({ secret: SECRET, dashboardUrl: DASHBOARD });
    expect(alertMail(base as unknown as Env)?.unsubscribe).toBeNull();
  });
});

describe("alert mail retries", () => {
  it("send a refused mail again after its backoff, once, when the provider takes it", async () => {
    const { site, rule, finding } = await seed("rt");
    const failing = new SwitchMailer();
    failing.refusal = new MailError("SMTP RCPT TO: 450 mailbox busy");
    const first = await deliverAlert(env as unknown as Env, env.DB, mailWith(failing), ["a@example.com", "b@example.com"], site, rule, finding, NOW);
    expect(first.mail).toBe("failed");
    expect(await log(first.logId)).toEqual({ mail: "failed", mail_error: "a@example.com: SMTP RCPT TO: 450 mailbox busy (retrying); b@example.com: SMTP RCPT TO: 450 mailbox busy (retrying)" });
    const working = new SwitchMailer();
    // Not before the backoff.
    expect(await retryAlertMails(env.DB, working, NOW + RETRY_BASE_MS - 1)).toEqual({ sent: 0, failed: 0 });
    // One address still refused, the other taken.
    failing.refusal = null;
    const later = NOW + RETRY_BASE_MS;
    const busy = new SwitchMailer();
    busy.refusal = new MailError("SMTP RCPT TO: 452 try later");
    expect(await retryAlertMails(env.DB, { driver: "mixed", send: (m) => (m.to === "a@example.com" ? working : busy).send(m) }, later)).toEqual({ sent: 1, failed: 1 });
    expect(working.sent.map((m) => [m.to, m.messageId])).toEqual([["a@example.com", `alert.${first.logId}.0@941.test`]]);
    expect(await log(first.logId)).toEqual({ mail: "failed", mail_error: "b@example.com: SMTP RCPT TO: 452 try later (retrying)" });
    // The second retry waits twice as long; then the mail goes, and nothing is sent twice.
    expect(await retryAlertMails(env.DB, working, later + 2 * RETRY_BASE_MS - 1)).toEqual({ sent: 0, failed: 0 });
    expect(await retryAlertMails(env.DB, working, later + 2 * RETRY_BASE_MS)).toEqual({ sent: 1, failed: 0 });
    expect(await retryAlertMails(env.DB, working, later + 100 * RETRY_BASE_MS)).toEqual({ sent: 0, failed: 0 });
    expect(working.sent.map((m) => m.to)).toEqual(["a@example.com", "b@example.com"]);
    expect(working.sent[1]!.headers?.["List-Unsubscribe"]).toContain("/reports/unsubscribe?t=");
    expect(await log(first.logId)).toEqual({ mail: "sent", mail_error: null });
  });

  it("stop at a final refusal and after the last attempt; a claim holds off a second run", async () => {
    const { site, rule, finding } = await seed("gv");
    const refusing = new SwitchMailer();
    refusing.refusal = new MailError("the mail API answered 422: bad address", true);
    const permanent = await deliverAlert(env as unknown as Env, env.DB, mailWith(refusing), ["x@example.com"], site, rule, finding, NOW);
    expect(await log(permanent.logId)).toEqual({ mail: "failed", mail_error: "x@example.com: the mail API answered 422: bad address" });
    refusing.refusal = new MailError("SMTP: 421 busy");
    const transient = await deliverAlert(env as unknown as Env, env.DB, mailWith(refusing), ["y@example.com"], site, rule, finding, NOW + 1);
    let at = NOW + 1;
    for (let attempt = 2; attempt <= ALERT_MAIL_ATTEMPTS; attempt++) {
      at += RETRY_BASE_MS * 2 ** (attempt - 2);
      expect(await retryAlertMails(env.DB, refusing, at)).toEqual({ sent: 0, failed: 1 });
    }
    const working = new SwitchMailer();
    expect(await retryAlertMails(env.DB, working, at + 1000 * RETRY_BASE_MS)).toEqual({ sent: 0, failed: 0 });
    expect(working.sent).toEqual([]);
    expect(await log(transient.logId)).toEqual({ mail: "failed", mail_error: "y@example.com: SMTP: 421 busy (gave up)" });
    // A claimed row (a run that died mid-send) waits CLAIM_MS before another run takes it.
    const again = await deliverAlert(env as unknown as Env, env.DB, mailWith(refusing), ["z@example.com"], site, rule, finding, NOW + 2);
    const due = NOW + 2 + RETRY_BASE_MS;
    await env.DB.prepare("UPDATE alert_mail_retries SET next_attempt_at = ?, attempts = 2 WHERE log_id = ?").bind(due + CLAIM_MS, again.logId).run();
    expect(await retryAlertMails(env.DB, working, due)).toEqual({ sent: 0, failed: 0 });
    expect(await retryAlertMails(env.DB, working, due + CLAIM_MS)).toEqual({ sent: 1, failed: 0 });
  });
});
